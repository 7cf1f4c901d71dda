/**
 * Editing a role's trust policy: plain functions over the policy document.
 *
 * Only the statements that let the Qualys principal assume the role are touched; anything
 * else an operator put there stays as it was. The Qualys principal is never admitted
 * without an `sts:ExternalId` condition: a statement that would do so is an error.
 */
import { TrustPolicyError } from './errors';

export interface PolicyDocument {
  Version?: string;
  Statement: Statement[];
  [key: string]: unknown;
}

export interface Statement {
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

export function parsePolicy(text: string): PolicyDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new TrustPolicyError("The role's trust policy is not valid JSON", { cause: error });
  }
  if (typeof doc !== 'object' || doc === null || !('Statement' in doc)) {
    throw new TrustPolicyError("The role's trust policy has no Statement");
  }
  const statement = (doc as { Statement: unknown }).Statement;
  return { ...(doc as object), Statement: Array.isArray(statement) ? statement : [statement] } as PolicyDocument;
}

/** Whether the statement lets `principalArn` call sts:AssumeRole. */
export function trustsPrincipal(statement: Statement, principalArn: string): boolean {
  if (statement.Effect !== 'Allow') return false;
  const principal = statement.Principal as { AWS?: unknown } | string | undefined;
  if (principal === '*') return true;
  const aws = typeof principal === 'object' && principal !== null ? principal.AWS : undefined;
  const principals = Array.isArray(aws) ? aws : [aws];
  if (!principals.some((p) => p === principalArn || p === '*')) return false;
  const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
  return actions.some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*');
}

/** The external IDs the policy requires of `principalArn` (empty when none is required). */
export function externalIdsFor(doc: PolicyDocument, principalArn: string): string[] {
  const ids: string[] = [];
  for (const statement of doc.Statement) {
    if (!trustsPrincipal(statement, principalArn)) continue;
    const value = statement.Condition?.StringEquals?.['sts:ExternalId'];
    if (typeof value === 'string') ids.push(value);
    if (Array.isArray(value)) ids.push(...value.filter((v): v is string => typeof v === 'string'));
  }
  return ids;
}

/**
 * A copy of the policy in which every statement trusting `principalArn` requires exactly
 * `externalIds`. Throws when no statement trusts the principal: then someone has changed the
 * role by hand, and guessing would be unsafe.
 */
export function withExternalIds(
  doc: PolicyDocument,
  principalArn: string,
  externalIds: readonly string[],
): PolicyDocument {
  if (externalIds.length === 0 || externalIds.some((id) => !id)) {
    throw new TrustPolicyError('Refusing to trust the Qualys principal without an external ID');
  }
  let found = false;
  const statements = doc.Statement.map((statement) => {
    if (!trustsPrincipal(statement, principalArn)) return statement;
    found = true;
    const value = externalIds.length === 1 ? externalIds[0] : [...externalIds];
    return {
      ...statement,
      Condition: {
        ...statement.Condition,
        StringEquals: { ...statement.Condition?.StringEquals, 'sts:ExternalId': value },
      },
    };
  });
  if (!found) {
    throw new TrustPolicyError(
      `The role's trust policy has no statement that lets ${principalArn} assume it; ` +
        'it was probably edited outside CloudFormation. Run "cdk deploy" again to restore it.',
    );
  }
  return { ...doc, Statement: statements };
}

export function samePolicy(a: PolicyDocument, b: PolicyDocument): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The statements that let `principalArn` assume the role with no `sts:ExternalId` condition,
 * counting the broader grants that also admit it: its account's ID or root, and `*`.
 * Used by the operator CLI to find roles open to the confused-deputy problem.
 */
export function statementsWithoutExternalId(doc: PolicyDocument, principalArn: string): Statement[] {
  const account = /^arn:([^:]+):(?:iam|sts)::(\d{12}):/.exec(principalArn);
  const admits = (p: unknown) =>
    p === '*' ||
    p === principalArn ||
    (account !== null && (p === account[2] || p === `arn:${account[1]}:iam::${account[2]}:root`));
  return doc.Statement.filter((statement) => {
    if (statement.Effect !== 'Allow') return false;
    const principal = statement.Principal as { AWS?: unknown } | string | undefined;
    const aws = typeof principal === 'object' && principal !== null ? principal.AWS : principal;
    if (!(Array.isArray(aws) ? aws : [aws]).some(admits)) return false;
    const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
    if (!actions.some((a) => typeof a === 'string' && ['sts:assumerole', 'sts:*', '*'].includes(a.toLowerCase())))
      return false;
    return !requiresExternalId(statement.Condition);
  });
}

/**
 * Whether a condition pins `sts:ExternalId` to concrete values: StringEquals, or StringLike
 * without wildcards. `StringLike "*"`, an `...IfExists` operator (true when the key is absent)
 * or a negated operator admit callers without the ID.
 */
function requiresExternalId(condition: Statement['Condition']): boolean {
  return Object.entries(condition ?? {}).some(([operator, block]) => {
    if (operator !== 'StringEquals' && operator !== 'StringLike') return false;
    if (typeof block !== 'object' || block === null) return false;
    return Object.entries(block).some(([key, value]) => {
      if (key.toLowerCase() !== 'sts:externalid') return false;
      const values = Array.isArray(value) ? value : [value];
      return (
        values.length > 0 &&
        values.every((v) => typeof v === 'string' && v.length > 0 && (operator === 'StringEquals' || !/[*?]/.test(v)))
      );
    });
  });
}
