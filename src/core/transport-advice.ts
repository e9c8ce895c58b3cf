/**
 * Turns what a sign-in service or mail server said into plain advice for a mail administrator:
 * what is wrong, and what to do about it. Pure: the caller passes the text (already scrubbed of
 * secrets), the provider, and, where known, the server's clock and ours.
 *
 * The codes are Microsoft Entra's AADSTS numbers, Exchange Online's and Gmail's SMTP enhanced
 * status codes, Graph's error codes, and OAuth's error names.
 */
export interface TransportAdvice {
  /** What is wrong, in a sentence. */
  problem: string;
  /** What to do, in a sentence or two. */
  fix: string;
}

export interface AdviceContext {
  provider: 'microsoft365' | 'graph' | 'google' | 'smtp';
  /** The server's Date header (ms), when a reply had one. */
  serverTime?: number;
  /** Our clock (ms). */
  now?: number;
}

interface Rule {
  test: RegExp;
  /** Only for these providers (a bare 401 or 403 means something else elsewhere). */
  only?: AdviceContext['provider'][];
  advice: (context: AdviceContext) => TransportAdvice;
}

const ENTRA_APP = 'Microsoft Entra admin center → App registrations';

const RULES: Rule[] = [
  {
    test: /AADSTS90002\b|AADSTS900023\b/,
    advice: () => ({
      problem: 'wrong tenant: Microsoft Entra has no tenant with the BULLETIN_TENANT_ID given',
      fix: `set BULLETIN_TENANT_ID to the Directory (tenant) ID shown on the app's Overview page (${ENTRA_APP}), or your tenant's domain such as contoso.onmicrosoft.com`,
    }),
  },
  {
    test: /AADSTS700016\b/,
    advice: () => ({
      problem: 'the app was not found in this tenant: BULLETIN_CLIENT_ID is wrong, or the app is registered in another tenant',
      fix: `set BULLETIN_CLIENT_ID to the Application (client) ID from the app's Overview page (${ENTRA_APP}), and BULLETIN_TENANT_ID to the tenant it is registered in`,
    }),
  },
  {
    test: /AADSTS7000215\b/,
    advice: () => ({
      problem: 'invalid client secret: Microsoft Entra did not accept BULLETIN_CLIENT_SECRET',
      fix: `copy the secret's Value (not its Secret ID) from ${ENTRA_APP} → Certificates & secrets; if nobody kept it, create a new one (a certificate is better: BULLETIN_CLIENT_CERTIFICATE)`,
    }),
  },
  {
    test: /AADSTS7000222\b/,
    advice: () => ({
      problem: 'the client secret has expired',
      fix: `create a new secret in ${ENTRA_APP} → Certificates & secrets and put its Value in BULLETIN_CLIENT_SECRET (or switch to a certificate)`,
    }),
  },
  {
    test: /AADSTS700027\b|AADSTS700024\b|AADSTS7000274\b/,
    advice: (context) => {
      const skew = clockSkewMinutes(context);
      if (skew !== undefined && Math.abs(skew) >= 5) {
        return {
          problem: `this computer's clock is ${Math.abs(skew)} minutes ${skew > 0 ? 'ahead of' : 'behind'} Microsoft's, so the signed sign-in request looks expired or not yet valid`,
          fix: "set the computer's clock right (turn on automatic time), then try again",
        };
      }
      return {
        problem: "Microsoft Entra refused the certificate's signed sign-in request: the certificate is not the one uploaded to the app, has expired, or this computer's clock is far off",
        fix: `upload the certificate (the public part, .cer or .pem) in ${ENTRA_APP} → Certificates & secrets, check that BULLETIN_CLIENT_CERTIFICATE names the file with that certificate and its private key, and check the clock`,
      };
    },
  },
  {
    test: /AADSTS65001\b/,
    advice: () => ({
      problem: 'consent not granted: an administrator has not approved the app\'s permissions',
      fix: `in ${ENTRA_APP} → API permissions, choose "Grant admin consent" (a Global or Privileged Role Administrator can)`,
    }),
  },
  {
    test: /AADSTS500011\b/,
    advice: () => ({
      problem: 'the resource (Office 365 Exchange Online or Microsoft Graph) is not available in this tenant for the app',
      fix: 'check that the tenant has Exchange Online, that the app asks for the right API permission (SMTP.SendAsApp under Office 365 Exchange Online, or Mail.Send under Microsoft Graph), and that admin consent was granted',
    }),
  },
  {
    test: /AADSTS7000112\b/,
    advice: () => ({
      problem: 'the app is disabled in this tenant',
      fix: 'in Microsoft Entra admin center → Enterprise applications, open the app → Properties and set "Enabled for users to sign in" to Yes',
    }),
  },
  {
    test: /5\.7\.139/,
    advice: () => ({
      problem: 'SMTP AUTH is turned off for the tenant or for this mailbox (535 5.7.139)',
      fix: 'an Exchange administrator runs Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false (and checks Get-TransportConfig | Format-List SmtpClientAuthenticationDisabled); or send through Microsoft Graph instead: --transport graph',
    }),
  },
  {
    test: /\b5\.7\.3\b/,
    advice: () => ({
      problem: 'Exchange Online refused the app\'s sign-in for this mailbox (535 5.7.3): the app\'s service principal is not registered in Exchange, or has no permission on the mailbox',
      fix: 'an Exchange administrator runs New-ServicePrincipal -AppId <client id> -ObjectId <enterprise application object id>, then Add-MailboxPermission -Identity <mailbox> -User <service principal id> -AccessRights FullAccess (and Add-RecipientPermission … -AccessRights SendAs); the app needs SMTP.SendAsApp with admin consent',
    }),
  },
  {
    test: /\b5\.7\.60\b/,
    advice: () => ({
      problem: 'the app may not send as this address (550 5.7.60: SendAs denied)',
      fix: 'an Exchange administrator runs Add-RecipientPermission -Identity <mailbox> -Trustee <service principal id> -AccessRights SendAs; or make "from" in bulletin.json the mailbox the app was granted',
    }),
  },
  {
    test: /InvalidAuthenticationToken|\b401\b/,
    only: ['graph'],
    advice: () => ({
      problem: 'Microsoft Graph did not accept the access token (401 InvalidAuthenticationToken)',
      fix: 'check that the app has the Mail.Send application permission under Microsoft Graph with admin consent, and that BULLETIN_GRAPH_HOST and the sign-in host belong to the same cloud',
    }),
  },
  {
    test: /ErrorAccessDenied|Access is denied|\b403\b/,
    only: ['graph'],
    advice: () => ({
      problem: 'Microsoft Graph refused access to this mailbox (403 ErrorAccessDenied)',
      fix: 'grant the app the Mail.Send application permission with admin consent, and if an application access policy (New-ApplicationAccessPolicy) or RBAC for Applications restricts it, add this mailbox to the allowed group',
    }),
  },
  {
    test: /5\.7\.8|BadCredentials|Username and Password not accepted/i,
    advice: (context) =>
      context.provider === 'google'
        ? {
            problem: 'Gmail did not accept the sign-in (535 5.7.8 BadCredentials): the "from" address is not the account the token is for, or the OAuth client may not send mail',
            fix: 'make "from" the Workspace user the service account acts for (or that the refresh token belongs to), and check that domain-wide delegation lists the scope https://mail.google.com/',
          }
        : {
            problem: 'the server did not accept the sign-in (535 5.7.8)',
            fix: 'check the user name and the credentials for this server',
          },
  },
  {
    test: /5\.7\.9\b|5\.7\.14\b/,
    advice: () => ({
      problem: 'Gmail wants the account to sign in another way first (534 5.7.9 / 5.7.14): the account or the OAuth client is blocked from this kind of sign-in',
      fix: 'sign in to the account in a browser once to clear any security prompt, and check in the Admin console (Security → API controls) that the OAuth client is trusted and domain-wide delegation includes https://mail.google.com/',
    }),
  },
  {
    test: /unauthorized_client|invalid_grant|access_denied.*google|Client is unauthorized/i,
    advice: (context) =>
      context.provider === 'google'
        ? {
            problem: 'Google refused to issue a token: domain-wide delegation is not granted to this service account for the scope https://mail.google.com/, the "from" user does not exist, or the refresh token was revoked',
            fix: "a Workspace super administrator opens Admin console → Security → Access and data control → API controls → Manage domain-wide delegation, and adds the service account's client ID with the scope https://mail.google.com/ (a refresh token: create a new one)",
          }
        : {
            problem: 'the sign-in service refused to issue a token (unauthorized client or invalid grant)',
            fix: 'check the app registration, its credentials and its permissions',
          },
  },
];

/** Advice for a failure, or undefined when nothing known matches (then show the raw reply). */
export function adviseTransport(text: string, context: AdviceContext): TransportAdvice | undefined {
  for (const rule of RULES) {
    if (rule.only && !rule.only.includes(context.provider)) continue;
    if (rule.test.test(text)) return rule.advice(context);
  }
  return undefined;
}

/** Minutes our clock is ahead of the server's (negative: behind); undefined without both. */
export function clockSkewMinutes(context: AdviceContext): number | undefined {
  if (context.serverTime === undefined || context.now === undefined) return undefined;
  return Math.round((context.now - context.serverTime) / 60_000);
}

/** A certificate past its end (or before its start) fails every sign-in: say so before trying. */
export function adviseCertificate(validity: { notBefore: number; notAfter: number }, now: number): TransportAdvice | undefined {
  if (now > validity.notAfter) {
    return {
      problem: `the client certificate expired on ${new Date(validity.notAfter).toISOString().slice(0, 10)}`,
      fix: 'create a new certificate, upload its public part in Microsoft Entra admin center → App registrations → Certificates & secrets, and point BULLETIN_CLIENT_CERTIFICATE at the new file (certificate and private key)',
    };
  }
  if (now < validity.notBefore) {
    return {
      problem: `the client certificate is not valid until ${new Date(validity.notBefore).toISOString().slice(0, 16).replace('T', ' ')} UTC: it is brand new, or this computer's clock is behind`,
      fix: "check the computer's clock (turn on automatic time), or wait until the certificate is valid",
    };
  }
  return undefined;
}
