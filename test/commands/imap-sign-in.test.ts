import { describe, expect, it } from 'vitest';
import { imapSignInFor, resolveImapSignIn } from '../../src/io/transport-setup.js';

describe('the IMAP sign-in a host needs', () => {
  it('OAuth2 for Exchange Online (any cloud) and Gmail, a password for any other server', () => {
    expect(imapSignInFor('outlook.office365.com')).toBe('microsoft365');
    expect(imapSignInFor('Outlook.Office365.us')).toBe('microsoft365');
    expect(imapSignInFor('outlook.office.com')).toBe('microsoft365');
    expect(imapSignInFor('outlook-dod.office365.us')).toBe('microsoft365');
    expect(imapSignInFor('imap.gmail.com')).toBe('google');
    expect(imapSignInFor('mail.example.org')).toBe('password');
    expect(imapSignInFor('127.0.0.1')).toBe('password');
    expect(imapSignInFor('outlook.office365.com.example.net')).toBe('password');
  });

  it('refuses without the sign-in settings, naming what to set, before any network', async () => {
    const context = { settings: undefined, dir: '.', user: 'comms@example.org', host: 'outlook.office365.com' };
    await expect(resolveImapSignIn('microsoft365', { ...context, env: {} })).rejects.toThrow('BULLETIN_TENANT_ID is not set');
    await expect(resolveImapSignIn('microsoft365', { ...context, env: { BULLETIN_TENANT_ID: 't', BULLETIN_CLIENT_ID: 'c' } })).rejects.toThrow(/needs a client certificate or secret/);
    await expect(resolveImapSignIn('google', { ...context, env: {} })).rejects.toThrow(/google needs a service account key/);
    const signIn = await resolveImapSignIn('microsoft365', { ...context, env: { BULLETIN_TENANT_ID: 'contoso-tenant', BULLETIN_CLIENT_ID: '1234abcd-0000', BULLETIN_CLIENT_SECRET: 's3cret-value' } });
    expect(signIn.account).toBe('app 1234abcd…, tenant contoso…');
    expect(signIn.scrubber.scrub('said s3cret-value')).not.toContain('s3cret-value');
  });
});
