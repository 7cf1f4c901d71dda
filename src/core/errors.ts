/**
 * Typed errors. Each says which step failed and what to do about it, and keeps its cause.
 * Messages never carry the password or the JWT (and the logger redacts them besides).
 */

/** A failure the operator can act on; its message is what CloudFormation shows. */
export class IntegrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The Qualys API answered with an error status. */
export class QualysApiError extends IntegrationError {
  constructor(
    readonly step: string,
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly qualysMessage: string,
    readonly retryAfterMs?: number,
    /** A 409 that Qualys's X-RateLimit-* / X-Concurrency-Limit-* headers mark as a rate limit, not a conflict. */
    readonly rateLimited = false,
  ) {
    super(
      `${step} failed: Qualys answered HTTP ${status} to ${method} ${path}${qualysMessage ? `: ${qualysMessage}` : ''}`,
    );
  }

  /** A 429, or a 409 Qualys's headers say was a rate or concurrency limit: nothing was done, and waiting helps. */
  get isRateLimit(): boolean {
    return this.status === 429 || this.rateLimited;
  }

  get retryable(): boolean {
    return this.isRateLimit || this.status >= 500;
  }
}

/** The Qualys gateway could not be reached (DNS, TLS, connection, timeout). */
export class QualysNetworkError extends IntegrationError {
  constructor(
    readonly step: string,
    readonly method: string,
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${step} failed: could not reach the Qualys gateway for ${method} ${path} (${reason})`, options);
  }
}

/** Qualys refused the credentials. */
export class QualysAuthError extends IntegrationError {
  constructor(
    message: string,
    /** What the gateway said when it refused (its words, e.g. that the account is locked); empty when it said nothing. */
    readonly gatewayAnswer = '',
  ) {
    super(message);
  }
}

/** The credentials secret is missing, unreadable or malformed. */
export class SecretError extends IntegrationError {}

/** The custom resource's properties are not what the construct sends. */
export class PropertiesError extends IntegrationError {}

/** An integration of the configured name exists and does not evidently belong to this stack. */
export class AdoptionRefusedError extends IntegrationError {}

/** Qualys answered in a shape no reading of the guide allows: nothing is done on it. */
export class UnreadableAnswerError extends IntegrationError {}

/** The role's trust policy cannot be edited safely. */
export class TrustPolicyError extends IntegrationError {}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
