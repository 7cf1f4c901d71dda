/**
 * Turns a failed `POST /auth` into what it means and what to do: bad credentials, a locked
 * account, a timeout, a TLS or a DNS problem each get their own words.
 */
import { IntegrationError, QualysApiError, QualysAuthError, QualysNetworkError, errorMessage } from '../core/errors';
import { type CheckOutcome, fail } from './checklist';

export function diagnoseAuthFailure(error: unknown, gatewayUrl: string, secretId: string): CheckOutcome {
  const message = errorMessage(error);
  if (error instanceof QualysAuthError) {
    // What the gateway said, not the client's own advice (which mentions locked accounts too).
    if (/lock/i.test(error.gatewayAnswer)) {
      return fail(
        'account locked: Qualys refuses this user after too many failed logins',
        'ask your Qualys administrator to unlock the user (Users > Edit > Unlock), then check the password in the secret before trying again',
        { reason: 'locked' },
      );
    }
    return fail(
      `bad credentials: ${gatewayUrl} answered 401 to POST /auth`,
      `check the username and password in secret "${secretId}", that the user has API access, and that "platform"/"gatewayUrl" is your Qualys platform; repeated failures lock the account`,
      { reason: 'bad-credentials' },
    );
  }
  if (error instanceof QualysNetworkError) {
    const reason = error.reason;
    if (/DNS/i.test(reason)) {
      return fail(
        `DNS: cannot resolve ${hostOf(gatewayUrl)}`,
        'check "platform" / "gatewayUrl" and your DNS; behind a proxy set HTTPS_PROXY',
        { reason: 'dns' },
      );
    }
    if (/TLS|certificate/i.test(reason)) {
      return fail(
        `TLS: ${reason}`,
        'a proxy that intercepts TLS needs its CA in NODE_EXTRA_CA_CERTS; otherwise check that the gateway URL is the Qualys API gateway',
        { reason: 'tls' },
      );
    }
    if (/timed out/i.test(reason)) {
      return fail(
        `timeout: ${gatewayUrl} did not answer in time`,
        'check outbound HTTPS (443) to the gateway; behind a proxy set HTTPS_PROXY',
        {
          reason: 'timeout',
        },
      );
    }
    return fail(
      `unreachable: ${reason}`,
      'check the gateway URL and outbound HTTPS (443); behind a proxy set HTTPS_PROXY',
      { reason: 'network' },
    );
  }
  if (error instanceof QualysApiError) {
    if (error.status === 429) {
      return fail(
        'rate limited: the gateway answered 429 to POST /auth',
        'wait a minute and run again; another tool may be using the same account',
        {
          reason: 'rate-limited',
        },
      );
    }
    return fail(
      `gateway error: HTTP ${error.status} to POST /auth${error.qualysMessage ? ` (${error.qualysMessage})` : ''}`,
      'check status.qualys.com and try again later',
      {
        reason: 'gateway-error',
      },
    );
  }
  if (error instanceof IntegrationError)
    return fail(message, 'check that "gatewayUrl" is the API gateway, not the web UI', { reason: 'not-a-gateway' });
  return fail(message, 'run again with --verbose', { reason: 'unknown' });
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
