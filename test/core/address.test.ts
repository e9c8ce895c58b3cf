import { describe, expect, it } from 'vitest';
import { checkAddress, recipientKey } from '../../src/core/address.js';

function reason(raw: string): string {
  const result = checkAddress(raw);
  if (result.ok) throw new Error(`expected "${raw}" to be rejected`);
  return result.reason;
}

describe('checkAddress', () => {
  it('lower-cases the domain but keeps the local part, and keys on the folded address', () => {
    expect(checkAddress('  Maya.Oduya@Example.ORG ')).toEqual({
      ok: true,
      address: 'Maya.Oduya@example.org',
      key: 'maya.oduya@example.org',
      domain: 'example.org',
    });
    expect(recipientKey('Maya.Oduya@example.org')).toBe(recipientKey('maya.oduya@EXAMPLE.org'));
  });

  it.each(['user+tag@example.org', "o'brien@example.com", 'zoë@example.net', 'a@xn--exmple-cua.example.org'])('accepts %s', (raw) => {
    expect(checkAddress(raw).ok).toBe(true);
  });

  it('explains a blank address, a line break and a space', () => {
    expect(reason('   ')).toBe('the address is blank');
    expect(reason('a@example.org\nBcc: b@example.org')).toBe('the address contains a line break');
    expect(reason('owen penhale@example.com')).toBe('"owen penhale@example.com" contains a space');
  });

  it('asks for a bare address when given a display name, even one with spaces', () => {
    expect(reason('Owen Penhale <owen.penhale@example.com>')).toMatch(/should be a bare address .* without a display name/);
    expect(reason('<owen.penhale@example.com>')).toMatch(/without a display name or <>/);
  });

  it.each(['owen.penhale.example.com', 'a..b@example.org', '.a@example.org', 'a@@example.org', 'a,b@example.org', 'a@example.org;b@example.org'])(
    'rejects %s as not an address',
    (raw) => {
      expect(reason(raw)).toBe(`"${raw}" is not a valid email address`);
    },
  );

  it.each(['a@localhost', 'a@-example.org', 'a@ex_ample.org', 'a@[192.0.2.1]', 'a@example.123'])('rejects %s for its domain', (raw) => {
    expect(reason(raw)).toBe(`"${raw}" has no valid internet domain after the @`);
  });
});
