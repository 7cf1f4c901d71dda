/**
 * Values the tests of several layers share (configuration, constructs, lifecycle, CLI): what
 * the shipped defaults turn into, the role Qualys assumes from, and the trust policies that
 * name it. Frozen, so a test that changes one for itself cannot change it for the next.
 */

/** The role in Qualys's commercial AWS account that assumes the customer's role. */
export const QUALYS_ROLE_ARN = 'arn:aws:iam::805950163170:role/QUALYS_ROLE_ASSUMING_CUSTOMER_ROLE';

/** The VM integration settings an environment gets when its `vm` block sets none. */
export const VM_DEFAULT_SETTINGS = deepFreeze({
  minSeverity: 3,
  baseCategory: 'Confirmed',
  resultSectionNeeded: false,
  sendVulnInfo: false,
  compressData: true,
  sendAlerts: false,
  errorEmails: [] as string[],
});

/** The CIPS filter of a PC block that includes fail posture and not pass posture. */
export const CIPS_FILTER = deepFreeze({
  includeEvidenceData: false,
  includeFailPosture: true,
  includePassPosture: false,
  includeErrorPosture: true,
});

/** The CIPS filter a PC block with an empty (or no) `filter` gets. */
export const CIPS_DEFAULT_FILTER = deepFreeze({
  includeEvidenceData: false,
  includeFailPosture: true,
  includePassPosture: true,
  includeErrorPosture: true,
});

/** A VPC with two subnets and one security group, in well-formed IDs. */
export const VPC = deepFreeze({
  vpcId: 'vpc-0a1b2c3d4e5f67890',
  subnetIds: ['subnet-0a1b2c3d4e5f67890', 'subnet-1a1b2c3d4e5f67890'],
  securityGroupIds: ['sg-0a1b2c3d4e5f67890'],
});

/** A trust policy with one statement letting `principal` assume the role, under `condition` if given. */
export function qualysTrust(condition?: Record<string, unknown>, principal: unknown = QUALYS_ROLE_ARN) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: principal },
        Action: 'sts:AssumeRole',
        ...(condition ? { Condition: condition } : {}),
      } as Record<string, unknown>,
    ],
  };
}

/** The trust policy a role holds before its integration is registered (the stack writes it). */
export const pendingTrust = (kind: string) =>
  qualysTrust({ StringEquals: { 'sts:ExternalId': `qualys-s3-pending-registration-${kind}` } });

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
