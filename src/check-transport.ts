/**
 * `bulletin check-transport`, and the same check `send` runs before it asks for confirmation:
 * connect and sign in the way a send would, run one harmless exchange, send nothing, and say
 * plainly what is wrong.
 *
 * Order, cheapest first: the client certificate's dates (no network), a token from the sign-in
 * service, then the mail service itself (SMTP: EHLO, STARTTLS, AUTH, QUIT through the pool's
 * verify; Graph: the Graph transport's verify, which reads the mailbox's settings).
 */
import { adviseCertificate, adviseTransport, type AdviceContext } from './core/transport-advice.js';
import { senderAddress } from './core/message.js';
import { CampaignError } from './io/campaign-error.js';
import { loadCampaignConfig } from './io/campaign.js';
import { SignInSetupError } from './io/oauth-tokens.js';
import { describeTransport, openTransport, TransportUrlError } from './io/transport.js';
import { chooseTransport, readCampaignEnvironment, resolveTransport, settingsTransport, type ResolvedTransport } from './io/transport-setup.js';

export interface TransportCheck {
  ok: boolean;
  /** The transport as shown everywhere, without secrets. */
  transport: string;
  /** What was done, in order: "got a token from Microsoft Entra", … */
  steps: string[];
  /** When not ok: what is wrong, what to do, and what the service said (scrubbed). */
  problem?: string;
  fix?: string;
  reply?: string;
}

export interface CheckTransportRequest {
  dir: string;
  /** --transport */
  transport?: string;
  processEnv: NodeJS.ProcessEnv;
  now: () => Date;
}

export interface CheckTransportResult {
  check: TransportCheck;
  /** Where the transport setting came from: --transport, BULLETIN_TRANSPORT, .env, bulletin.json, default. */
  source: string;
}

/** Resolves the campaign's transport as `send` does, then checks it. */
export async function checkCampaignTransport(request: CheckTransportRequest): Promise<CheckTransportResult> {
  const { dir, config, diagnostics } = await loadCampaignConfig(request.dir);
  if (!config) {
    const first = diagnostics[0];
    throw new CampaignError(`bulletin.json cannot be used${first ? `: ${first.file}:${first.line ?? 1}: ${first.message}` : ''}`, first?.hint ?? 'run `bulletin validate` to see every problem');
  }
  const environment = await readCampaignEnvironment(dir, request.processEnv);
  const chosen = chooseTransport(request.transport, environment) ?? (config.transport ? { url: settingsTransport(config.transport), source: 'bulletin.json' } : undefined);
  if (!chosen) {
    return { source: 'default', check: { ok: true, transport: 'outbox', steps: ['no transport is set: send would write .eml files to an outbox folder; nothing to connect to'] } };
  }
  const resolved = await resolveForCampaign(chosen.url, { env: environment.env, settings: config.transport, mailbox: senderAddress(config.from), dir }, chosen.source === '--transport' ? 'give --transport' : `check ${chosen.source}`);
  return { source: chosen.source, check: await runTransportCheck(resolved, request.now) };
}

/** Parses and loads sign-in settings, turning setup mistakes into one line and a hint. */
export async function resolveForCampaign(url: string, context: Parameters<typeof resolveTransport>[1], where: string): Promise<ResolvedTransport> {
  try {
    return await resolveTransport(url, context);
  } catch (error) {
    if (error instanceof TransportUrlError) throw new CampaignError(error.message, `${where}, or set BULLETIN_TRANSPORT`);
    if (error instanceof SignInSetupError) throw new CampaignError(error.message, error.hint);
    throw error;
  }
}

/** Checks a resolved transport: never sends. */
export async function runTransportCheck(resolved: ResolvedTransport, now: () => Date): Promise<TransportCheck> {
  const { spec, signIn } = resolved;
  const transport = describeTransport(spec);
  const steps: string[] = [];
  if (spec.kind === 'outbox') return { ok: true, transport, steps: ['outbox: messages are written as .eml files; nothing to connect to'] };
  const provider: AdviceContext['provider'] = signIn?.provider ?? 'smtp';
  const fail = async (text: string, fromSignIn: boolean): Promise<TransportCheck> => {
    const reply = signIn ? signIn.scrubber.scrub(text) : text;
    const context: AdviceContext = { provider, now: now().getTime() };
    if (fromSignIn && signIn && /AADSTS7000(27|24|274)\b/.test(reply)) {
      const serverTime = await serverClock(signIn.signInOrigin);
      if (serverTime !== undefined) context.serverTime = serverTime;
    }
    const advice = adviseTransport(reply, context);
    const out: TransportCheck = { ok: false, transport, steps, reply };
    out.problem = advice?.problem ?? (fromSignIn ? 'the sign-in service refused to issue a token' : 'the mail service refused the connection or the sign-in');
    if (advice) out.fix = advice.fix;
    return out;
  };

  if (signIn?.certificate) {
    const advice = adviseCertificate(signIn.certificate, now().getTime());
    if (advice) return { ok: false, transport, steps, problem: advice.problem, fix: advice.fix };
    steps.push(`client certificate valid until ${new Date(signIn.certificate.notAfter).toISOString().slice(0, 10)}`);
  }
  if (signIn) {
    try {
      await signIn.tokens.token({ renew: false });
      steps.push(`got an access token from ${signIn.provider === 'google' ? 'Google' : 'Microsoft Entra'}`);
    } catch (error) {
      return fail(errorText(error), true);
    }
  }
  const opened = await openTransport(spec, { concurrency: 1, ...(signIn ? { signIn } : {}) });
  try {
    const outcome = await opened.verify();
    if (outcome) return await fail(outcome.response, false);
  } finally {
    await opened.close();
  }
  steps.push(spec.kind === 'graph' ? `Microsoft Graph accepted the token for ${signIn?.mailbox ?? 'the mailbox'} (read its settings)` : `the SMTP server accepted the connection${signIn || (spec.kind === 'smtp' && spec.user !== undefined) ? ' and the sign-in' : ''}`);
  return { ok: true, transport, steps };
}

function errorText(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { errorCode?: unknown; errorMessage?: unknown; message?: unknown };
    const parts = [e.errorCode, e.errorMessage ?? e.message].filter((p): p is string => typeof p === 'string' && p !== '');
    if (parts.length > 0) return parts.join(': ');
  }
  return String(error);
}

/** The sign-in service's clock (its Date header), to tell a far-off local clock from a bad certificate. */
async function serverClock(origin: string): Promise<number | undefined> {
  try {
    const response = await fetch(origin, { method: 'HEAD', signal: AbortSignal.timeout(5_000) });
    const date = Date.parse(response.headers.get('date') ?? '');
    return Number.isFinite(date) ? date : undefined;
  } catch {
    return undefined;
  }
}
