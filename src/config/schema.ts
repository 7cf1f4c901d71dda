/**
 * The configuration, defined once: its types (z.output), defaults, per-field rules and the
 * rules across fields and environments. The same schema yields the JSON Schema editors use
 * (qualys-s3.schema.json, `npm run schema`).
 *
 * zod runs at synth time and in the CLI only; nothing here ships in the Lambda, and this module
 * stays free of aws-cdk-lib.
 */
import { z } from 'zod';
import { MAX_CIPS_POLICIES, MAX_INTEGRATION_NAME_LENGTH, defaultIntegrationName } from '../core/contract';
import {
  evenWithOtherProblems,
  flag,
  isValid,
  keepingProtoKey,
  listOf,
  oneOfNames,
  oneOfNumbers,
  strictObject,
  text,
  whole,
} from './fields';
import { ConfigError, PROTO_KEY, WHOLE, asWritten, problemsFrom, show, sibling } from './messages';
import {
  DATABASE_NAME,
  DEFAULTS,
  LIMITS,
  LOG_RETENTION_DAYS,
  QUALYS_PLATFORMS,
  TAG_CHARACTERS,
  TRANSITION_STORAGE_CLASSES,
  bucketNameProblems,
  connectorApiUrl,
  connectorHostProblem,
  defaultDatabaseName,
  gatewayUrlProblem,
  partitionOfRegion,
  proxyUrlProblem,
  qualysAccountPartitionProblem,
  redactUrl,
  stackName,
  subscriptionKey,
} from './rules';

const awsAccountId = () => text({ pattern: /^\d{12}$/, describe: 'a 12-digit AWS account ID' });
const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

// --- integrations -------------------------------------------------------------------------

const integrationName = text({ maxLength: MAX_INTEGRATION_NAME_LENGTH })
  .superRefine((name, ctx) => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    if (/[\u0000-\u001f\u007f]/.test(name))
      ctx.addIssue({ code: 'custom', message: 'must not contain control characters' });
    // Qualys refuses blank names, and a name it trims would no longer match ours on the next lookup.
    if (name.trim() !== name) {
      ctx.addIssue({ code: 'custom', message: `is ${show(name)}; it must not be blank or start or end with spaces` });
    }
  })
  .describe("The integration's name in Qualys; absent: qs3-<env>-<vm|pc>-<account>-<region>.");

const integrationCommon = {
  name: integrationName.optional(),
  externalIdRotation: z
    .union([z.string(), z.number()], {
      error: (issue) => `must be a string (any new value rotates the external ID), got ${show(issue.input)}`,
    })
    .default('')
    .transform(String)
    .describe('Change to any new value to regenerate the external ID.'),
  adoptExisting: flag()
    .default(false)
    .describe('Take over an integration of the same name that this environment did not evidently create.'),
};

const email = z.string().regex(/^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/);

const vmSchema = strictObject({
  name: integrationCommon.name,
  minSeverity: whole(1, 5).default(DEFAULTS.vm.minSeverity).describe('The least severity (1 to 5) sent.'),
  baseCategory: oneOfNames(['IG', 'Potential', 'Confirmed']).default(DEFAULTS.vm.baseCategory),
  resultSectionNeeded: flag().default(DEFAULTS.vm.resultSectionNeeded),
  sendVulnInfo: flag().default(DEFAULTS.vm.sendVulnInfo),
  compressData: flag().default(DEFAULTS.vm.compressData),
  sendAlerts: flag().default(DEFAULTS.vm.sendAlerts),
  errorEmails: listOf(email, {
    max: LIMITS.maxErrorEmails,
    notAList: (v) => `must be a list of at most ${LIMITS.maxErrorEmails} email addresses, got ${show(v)}`,
    badItems: (bad) =>
      `holds ${bad.map(show).join(', ')}, which ${bad.length === 1 ? 'is not an email address' : 'are not email addresses'}`,
  })
    .default([])
    .describe('Up to 5 addresses that receive Qualys alerts (required when sendAlerts is true).'),
  externalIdRotation: integrationCommon.externalIdRotation,
  adoptExisting: integrationCommon.adoptExisting,
})
  .superRefine((vm, ctx) => {
    if (vm.sendAlerts === true && isValid(ctx, 'errorEmails') && vm.errorEmails.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['errorEmails'],
        message: 'is empty while "sendAlerts" is true; list 1 to 5 addresses to receive the alerts',
      });
    }
  }, evenWithOtherProblems)
  .transform(({ name, externalIdRotation, adoptExisting, ...settings }) => ({
    name,
    externalIdRotation,
    adoptExisting,
    settings,
  }));

const cipsFilterSchema = strictObject({
  includeEvidenceData: flag().default(DEFAULTS.cipsFilter.includeEvidenceData),
  includeFailPosture: flag().default(DEFAULTS.cipsFilter.includeFailPosture),
  includePassPosture: flag().default(DEFAULTS.cipsFilter.includePassPosture),
  includeErrorPosture: flag().default(DEFAULTS.cipsFilter.includeErrorPosture),
}).describe("The subscription-wide CIPS filter; absent: the subscription's filter is left alone.");

const policyId = z
  .number()
  .refine((id) => Number.isSafeInteger(id) && id > 0)
  .meta({ type: 'integer', minimum: 1 });

const policiesSchema = listOf(policyId, {
  notAList: (v) => `must be a list of Qualys policy IDs (whole numbers), got ${show(v)}`,
  badItems: (bad) => `holds ${bad.map(show).join(', ')}; each policy ID must be a positive whole number`,
})
  .superRefine((policies, ctx) => {
    const duplicates = policies.filter((p, i) => policies.indexOf(p) !== i);
    if (duplicates.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `lists ${[...new Set(duplicates)].join(', ')} more than once; list each policy once`,
      });
    }
    if (policies.length > MAX_CIPS_POLICIES) {
      ctx.addIssue({
        code: 'custom',
        message: `lists ${policies.length} policies; CIPS accepts at most ${MAX_CIPS_POLICIES} per subscription`,
      });
    }
  })
  .meta({ maxItems: MAX_CIPS_POLICIES })
  .transform((policies) => [...new Set(policies)])
  .default([])
  .describe('The CIPS policy IDs this environment adds to the subscription.');

const pcSchema = strictObject({
  name: integrationCommon.name,
  compressData: flag().default(DEFAULTS.pc.compressData),
  policies: policiesSchema,
  filter: cipsFilterSchema.optional(),
  externalIdRotation: integrationCommon.externalIdRotation,
  adoptExisting: integrationCommon.adoptExisting,
}).transform(({ name, externalIdRotation, adoptExisting, compressData, policies, filter }) => ({
  name,
  externalIdRotation,
  adoptExisting,
  settings: { compressData },
  policies,
  filter,
}));

/** `true`: the integration with every default; `false` or absent: none. */
function integration<T extends z.ZodType>(settings: T, what: string) {
  return z
    .union([z.boolean(), settings], { error: (issue) => `must be an object, got ${show(issue.input)}` })
    .optional()
    .describe(`${what}: an object of settings, true for the defaults, false or absent for none.`);
}

// --- bucket, network, tags ------------------------------------------------------------------

const storageClasses = Object.keys(TRANSITION_STORAGE_CLASSES) as [string, ...string[]];

const bucketSchema = strictObject({
  bucketName: text()
    .superRefine((name, ctx) => {
      for (const problem of bucketNameProblems(name)) {
        ctx.addIssue({ code: 'custom', message: `is ${show(name)}; ${problem}` });
      }
    })
    .optional()
    .describe('Absent: CloudFormation picks a unique name.'),
  retainOnDelete: flag().default(DEFAULTS.retainBucketOnDelete),
  kmsKeyArn: text({
    pattern: /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/,
    describe:
      'the full ARN of a customer-managed KMS key (arn:aws:kms:<region>:<account>:key/<key-id>); an alias or key ID cannot be ' +
      'pinned in the bucket policy',
  })
    .optional()
    .describe("A customer-managed KMS key for the bucket's default encryption; absent: SSE-S3."),
  expireAfterDays: whole(1, LIMITS.maxLifecycleDays)
    .optional()
    .describe('Findings expire this many days after they are written; absent: kept.'),
  transitionAfterDays: whole(0, LIMITS.maxLifecycleDays)
    .optional()
    .describe('Findings move to transitionStorageClass this many days after they are written; absent: they stay.'),
  transitionStorageClass: oneOfNames(storageClasses).optional().describe('Default: STANDARD_IA.'),
})
  .superRefine((bucket, ctx) => {
    const { expireAfterDays, transitionAfterDays, transitionStorageClass } = bucket;
    if (transitionStorageClass !== undefined && transitionAfterDays === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['transitionStorageClass'],
        message: `is set without ${sibling('transitionAfterDays')}; set the number of days after which findings move`,
      });
    }
    if (transitionAfterDays === undefined || !isValid(ctx, 'transitionAfterDays')) return;
    const storageClass = isValid(ctx, 'transitionStorageClass') ? (transitionStorageClass ?? 'STANDARD_IA') : undefined;
    const least = storageClass ? TRANSITION_STORAGE_CLASSES[storageClass] : 0;
    if (storageClass && transitionAfterDays < least) {
      ctx.addIssue({
        code: 'custom',
        path: ['transitionAfterDays'],
        message: `is ${transitionAfterDays}; S3 moves objects to ${storageClass} no sooner than ${least} days after they are written`,
      });
    }
    if (expireAfterDays !== undefined && isValid(ctx, 'expireAfterDays') && expireAfterDays <= transitionAfterDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['expireAfterDays'],
        message:
          `is ${expireAfterDays}, not after ${sibling('transitionAfterDays')} (${transitionAfterDays}); findings must move before they expire, ` +
          'so make expireAfterDays the larger or drop the transition',
      });
    }
  }, evenWithOtherProblems)
  .transform((bucket) => ({
    ...bucket,
    transitionStorageClass:
      bucket.transitionAfterDays !== undefined ? (bucket.transitionStorageClass ?? 'STANDARD_IA') : undefined,
  }))
  .prefault({});

const awsId = (prefix: string, what: string, max: number) =>
  listOf(z.string().regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`)), {
    min: 1,
    max,
    notAList: (v) => `must list 1 to ${max} ${what}, got ${show(v)}`,
    badItems: (bad) => `holds ${bad.map(show).join(', ')}; it must list ${what}`,
  }).transform((ids) => [...new Set(ids)]);

// --- analytics: the findings lake -----------------------------------------------------------

const bytesScannedLimitMb = z
  .int({
    error: (issue) =>
      `must be a whole number of megabytes from ${LIMITS.minBytesScannedLimitMb} (the least limit Athena accepts) ` +
      `to ${LIMITS.maxBytesScannedLimitMb}, got ${show(issue.input)}`,
    abort: true,
  })
  .min(LIMITS.minBytesScannedLimitMb, {
    error: (issue) =>
      `is ${show(issue.input)}; Athena accepts a per-query limit of at least ${LIMITS.minBytesScannedLimitMb} MB`,
  })
  .max(LIMITS.maxBytesScannedLimitMb, {
    error: (issue) => `is ${show(issue.input)}; at most ${LIMITS.maxBytesScannedLimitMb} MB (1 PB) is allowed`,
  });

/** The settings that mean something only when the lake exists. */
const ANALYTICS_OPTIONS = [
  'resultRetentionDays',
  'bytesScannedLimitMb',
  'rawDataExpirationDays',
  'databaseName',
  'alarmTopicArn',
];

/** An SNS topic's full ARN, as a CloudWatch alarm action names it (a name or alias would not do). */
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/**
 * Optional, with the default applied by the transform rather than by zod, so that the rule can
 * tell a field written from one left out; the JSON Schema still shows the default.
 */
const withDefault = <T extends z.ZodType>(field: T, value: unknown) => field.optional().meta({ default: value });

const analyticsSchema = strictObject({
  enabled: withDefault(flag(), DEFAULTS.analytics.enabled).describe(
    'Create the findings lake: S3 notifications, a queue, the normalizer Lambda, Parquet, Glue tables and an Athena workgroup.',
  ),
  resultRetentionDays: withDefault(whole(1, LIMITS.maxLifecycleDays), DEFAULTS.analytics.resultRetentionDays).describe(
    "Athena query results expire from the workgroup's results bucket this many days after they are written.",
  ),
  bytesScannedLimitMb: withDefault(bytesScannedLimitMb, DEFAULTS.analytics.bytesScannedLimitMb).describe(
    'Athena cancels a query of the workgroup once it has scanned this many megabytes (at least 10).',
  ),
  rawDataExpirationDays: whole(1, LIMITS.maxLifecycleDays)
    .optional()
    .describe(
      'Raw objects under qualys_pc_posture_info/ and qualys_vm_findings/ expire this many days after they are written; absent: kept.',
    ),
  databaseName: text({
    pattern: DATABASE_NAME,
    describe: 'lowercase letters, digits and underscores, starting with a letter (a name Athena reads without quotes)',
    maxLength: LIMITS.maxDatabaseNameLength,
    maxLengthReason: `the Athena workgroup takes the same name, and Athena allows workgroup names of at most ${LIMITS.maxDatabaseNameLength} characters`,
  })
    .optional()
    .describe('The Glue database (and Athena workgroup) name; absent: qualys_s3_<environment name>.'),
  alarmTopicArn: text({
    pattern: SNS_TOPIC_ARN,
    describe:
      'the full ARN of an existing SNS topic (arn:aws:sns:<region>:<account>:<topic name>, a name of letters, digits, ' +
      'hyphens and underscores)',
  })
    .optional()
    .describe(
      "The ARN of an existing SNS topic in the stack's region that the lake's two alarms notify, going into alarm and back to OK; absent: the alarms have no actions.",
    ),
})
  .superRefine((analytics, ctx) => {
    // "enabled" left out while options are set is a mistake (the user meant to turn it on);
    // "enabled": false written on purpose turns the lake off and keeps its settings for later.
    if (analytics.enabled !== undefined || !isValid(ctx, 'enabled')) return;
    const written = ANALYTICS_OPTIONS.filter((key) => analytics[key as keyof typeof analytics] !== undefined);
    if (written.length === 0) return;
    ctx.addIssue({
      code: 'custom',
      path: ['enabled'],
      message:
        `is not set (default false), but ${written.map(sibling).join(', ')} ${written.length === 1 ? 'is' : 'are'}; ` +
        'nothing of the findings lake is created while analytics is off: set "enabled": true to create it, or ' +
        '"enabled": false to keep the settings for later',
    });
  }, evenWithOtherProblems)
  .transform((analytics) => ({
    enabled: analytics.enabled ?? DEFAULTS.analytics.enabled,
    resultRetentionDays: analytics.resultRetentionDays ?? DEFAULTS.analytics.resultRetentionDays,
    bytesScannedLimitMb: analytics.bytesScannedLimitMb ?? DEFAULTS.analytics.bytesScannedLimitMb,
    rawDataExpirationDays: analytics.rawDataExpirationDays,
    databaseName: analytics.databaseName,
    alarmTopicArn: analytics.alarmTopicArn,
  }))
  .describe('The findings lake: postures and findings as Parquet, queryable with Athena; absent: none.');

const vpcSchema = strictObject({
  vpcId: text({
    pattern: /^vpc-[0-9a-f]{8,17}$/,
    describe: 'a VPC ID such as "vpc-0a1b2c3d4e5f67890"',
    missing: 'name the VPC the handler should run in',
  }),
  subnetIds: awsId('subnet', 'subnet IDs such as "subnet-0a1b2c3d4e5f67890"', LIMITS.maxSubnets),
  securityGroupIds: awsId('sg', 'security group IDs such as "sg-0a1b2c3d4e5f67890"', LIMITS.maxSecurityGroups),
}).describe(
  "An existing VPC the handler runs in, for accounts whose egress must pass their own network; absent: Lambda's own network.",
);

const tagValue = z.string({
  error: (issue) =>
    typeof issue.input === 'number' || typeof issue.input === 'boolean'
      ? `must be a string, got the ${typeof issue.input} ${show(issue.input)}; put it in double quotes: "${issue.input}"`
      : tagProblem(issue.input),
});

function tagProblem(value: unknown): string {
  return (
    'must map a tag key (1 to 128 characters, not starting with "aws:") to a string of at most 256 characters, ' +
    `both of letters, digits, spaces and _ . : / = + - @ only; got ${show(value)}`
  );
}

const tagsSchema = keepingProtoKey(
  z
    .record(z.string(), tagValue, { error: (issue) => `must be an object, got ${show(issue.input)}` })
    .superRefine((tags, ctx) => {
      const keys = Object.keys(tags);
      if (keys.length > LIMITS.maxTags) {
        ctx.addIssue({
          code: 'custom',
          message: `holds ${keys.length} tags; AWS resources take at most ${LIMITS.maxTags}`,
        });
      }
      for (const key of keys) {
        if (!isValid(ctx, key)) continue;
        const value = tags[key];
        if (key === PROTO_KEY) {
          // AWS would take it, but a plain object drops it on the way to the stack's tags.
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message:
              'is a tag key that cannot reach the stack (a JavaScript object drops "__proto__"); use another key',
          });
          continue;
        }
        const fits =
          key.length >= 1 &&
          key.length <= 128 &&
          value.length <= 256 &&
          !key.toLowerCase().startsWith('aws:') &&
          TAG_CHARACTERS.test(key) &&
          TAG_CHARACTERS.test(value);
        if (!fits) ctx.addIssue({ code: 'custom', path: [key], message: tagProblem(value) });
      }
    }, evenWithOtherProblems)
    // Inside the preprocess, where the JSON Schema still sees the default.
    .default({})
    .describe('Tags for every resource of the stack.'),
);

// --- one environment ------------------------------------------------------------------------

const region = text({ pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/, describe: 'an AWS region name such as "us-east-1"' });
const platformNames = Object.keys(QUALYS_PLATFORMS) as [string, ...string[]];

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const credentialsSecret = text({
  missing:
    'set it to the name or ARN of the Secrets Manager secret that holds {"username","password"} ' +
    '(see "Create the credentials secret" in README.md)',
})
  .superRefine((value, ctx) => {
    const isName = /^[A-Za-z0-9/_+=.@-]{1,512}$/.test(value) && !value.startsWith('arn:');
    if (SECRET_ARN.test(value) || isName) return;
    // The value is not echoed: a wrong value here is too often the credentials themselves.
    ctx.addIssue({
      code: 'custom',
      message:
        `is not a secret name or ARN (${value.length} characters, not shown); it must be a secret name ` +
        '(letters, digits and /_+=.@-) or a full secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>); ' +
        'never put the credentials themselves here',
    });
  })
  .describe('The name or ARN of the Secrets Manager secret that holds {"username","password"}.');

/** A URL field: its rules say what is wrong, and never echo credentials written into it. */
const url = (problemOf: (value: string) => string | undefined) =>
  text()
    .superRefine((value, ctx) => {
      const problem = problemOf(value);
      if (problem) ctx.addIssue({ code: 'custom', message: `is ${show(redactUrl(value))}; ${problem}` });
    })
    .transform(withoutTrailingSlash);

// --- the CloudView / TotalCloud connector ----------------------------------------------------

const connectorApis = ['connectors-v3', 'cloudview'] as const;
const connectorModules = ['assetInventory', 'cloudInventory', 'securityAssessment'] as const;

const cloudViewSchema = strictObject({
  name: text({ maxLength: LIMITS.maxConnectorNameLength })
    .optional()
    .describe("The connector's name in Qualys; absent: qs3-<env>-cloudview-<account>."),
  description: text({ maxLength: LIMITS.maxConnectorDescriptionLength }).optional(),
  api: oneOfNames(connectorApis)
    .default(DEFAULTS.cloudView.api)
    .describe(
      "connectors-v3 (Connectors 3.0, what Qualys's current scripts use) or cloudview (the CloudView REST API).",
    ),
  modules: listOf(oneOfNames(connectorModules), {
    min: 1,
    max: connectorModules.length,
    notAList: (v) => `must list 1 to 3 of ${connectorModules.join(', ')}, got ${show(v)}`,
    badItems: (bad) => `holds ${bad.map(show).join(', ')}; each must be one of ${connectorModules.join(', ')}`,
  })
    .superRefine((modules, ctx) => {
      const twice = modules.filter((m, i) => modules.indexOf(m) !== i);
      if (twice.length)
        ctx.addIssue({ code: 'custom', message: `lists ${[...new Set(twice)].join(', ')} more than once` });
    })
    .default([...DEFAULTS.cloudView.modules])
    .describe('The apps the connector runs; the role may read what they need and nothing more.'),
  pollingHours: whole(1, LIMITS.maxPollingHours)
    .default(DEFAULTS.cloudView.pollingHours)
    .describe('How often the connector runs, in hours.'),
  remediation: flag()
    .default(DEFAULTS.cloudView.remediation)
    .describe("Qualys's remediation on this connector (off: read-only)."),
  qualysAwsAccountId: awsAccountId()
    .optional()
    .describe(
      "Qualys's AWS account the connector assumes the role from; default the environment's qualysAwsAccountId.",
    ),
  apiUrl: url(connectorHostProblem)
    .optional()
    .describe('The host the connector API is called on; absent: derived from the platform.'),
  adoptExisting: flag()
    .default(false)
    .describe('Take over a connector for this account that this environment did not evidently create.'),
});

const environmentSchema = strictObject({
  account: awsAccountId().optional().describe("The stack's AWS account; absent: the CLI's."),
  region: region.optional().describe("The stack's AWS region; absent: the CLI's."),
  gatewayUrl: url(gatewayUrlProblem)
    .optional()
    .describe('Your Qualys API gateway, e.g. "https://gateway.qg1.apps.qualys.com"; or set "platform".'),
  platform: oneOfNames(platformNames).optional().describe('Your Qualys platform; or set "gatewayUrl".'),
  credentialsSecret,
  qualysAwsAccountId: awsAccountId()
    .optional()
    .describe(`Qualys's AWS account; default ${DEFAULTS.qualysAwsAccountId} (commercial partition only).`),
  bucket: bucketSchema,
  vm: integration(vmSchema, 'The VM (vulnerability) findings integration'),
  pc: integration(pcSchema, 'The PC (policy compliance) findings integration'),
  cloudView: integration(cloudViewSchema, 'The CloudView / TotalCloud connector'),
  validationTimeoutSeconds: whole(LIMITS.minValidationTimeoutSeconds, LIMITS.maxValidationTimeoutSeconds).default(
    DEFAULTS.validationTimeoutSeconds,
  ),
  logRetentionDays: oneOfNumbers(LOG_RETENTION_DAYS).default(DEFAULTS.logRetentionDays),
  tags: tagsSchema,
  proxyUrl: url(proxyUrlProblem)
    .optional()
    .describe('An HTTP(S) proxy the handler reaches Qualys through; absent: direct.'),
  vpc: vpcSchema.optional(),
  subscription: text({
    pattern: /^[A-Za-z0-9][A-Za-z0-9 _.:@-]{0,63}$/,
    describe:
      'a label of at most 64 letters, digits, spaces and _ . : @ -, the same in every environment on that subscription',
  })
    .optional()
    .describe(
      'The Qualys subscription this environment uses, for the subscription-wide CIPS checks; absent: environments on one gateway share one.',
    ),
  analytics: analyticsSchema.optional(),
})
  .superRefine((env, ctx) => {
    const valid = (key: string) => (env[key as keyof typeof env] !== undefined && isValid(ctx, key) ? env : undefined);
    if (env.gatewayUrl !== undefined && env.platform !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['gatewayUrl'],
        message: `and ${sibling('platform')} are both set; set only one of them`,
      });
    } else if (env.gatewayUrl === undefined && env.platform === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['gatewayUrl'],
        message:
          `is missing; set "gatewayUrl" to your Qualys API gateway (e.g. "https://gateway.qg1.apps.qualys.com") ` +
          `or "platform" to one of ${platformNames.join(', ')}`,
      });
    }
    const stackRegion = valid('region')?.region;
    const stackAccount = valid('account')?.account;
    const secret = valid('credentialsSecret')?.credentialsSecret;
    const secretRegion = secret && SECRET_ARN.test(secret) ? secret.split(':')[3] : undefined;
    if (secretRegion && stackRegion && secretRegion !== stackRegion) {
      ctx.addIssue({
        code: 'custom',
        path: ['credentialsSecret'],
        message:
          `is a secret in region ${secretRegion}, but the stack deploys to ${stackRegion}; the handler reads the secret in its own ` +
          'region, so create (or replicate) the secret there and name it here',
      });
    }
    // The environment's Qualys account is trusted by the S3 roles; a connector may name its own.
    const usesEnvironmentAccount =
      Boolean(env.vm || env.pc) ||
      (Boolean(env.cloudView) &&
        !(typeof env.cloudView === 'object' && env.cloudView.qualysAwsAccountId !== undefined));
    if (stackRegion && isValid(ctx, 'qualysAwsAccountId') && usesEnvironmentAccount) {
      const explicit = env.qualysAwsAccountId;
      const problem = qualysAccountPartitionProblem(
        partitionOfRegion(stackRegion),
        explicit ?? DEFAULTS.qualysAwsAccountId,
      );
      if (problem) {
        ctx.addIssue({
          code: 'custom',
          path: ['qualysAwsAccountId'],
          message: `${explicit ? `is "${explicit}"` : 'is not set'}, but ${problem}`,
        });
      }
    }
    const connectorAccount =
      env.cloudView && typeof env.cloudView === 'object' && isValid(ctx, 'cloudView', 'qualysAwsAccountId')
        ? env.cloudView.qualysAwsAccountId
        : undefined;
    if (stackRegion && connectorAccount) {
      const problem = qualysAccountPartitionProblem(partitionOfRegion(stackRegion), connectorAccount);
      if (problem) {
        ctx.addIssue({
          code: 'custom',
          path: ['cloudView', 'qualysAwsAccountId'],
          message: `is "${connectorAccount}", but ${problem}`,
        });
      }
    }
    const key = isValid(ctx, 'bucket', 'kmsKeyArn') ? env.bucket?.kmsKeyArn : undefined;
    if (typeof key === 'string') {
      const [, , , keyRegion, keyAccount] = key.split(':');
      if (stackRegion && keyRegion !== stackRegion) {
        ctx.addIssue({
          code: 'custom',
          path: ['bucket', 'kmsKeyArn'],
          message: `is a key in ${keyRegion}, but the bucket is in ${stackRegion}; S3 encrypts only with a key in the bucket's region`,
        });
      }
      if (stackAccount && keyAccount !== stackAccount) {
        ctx.addIssue({
          code: 'custom',
          path: ['bucket', 'kmsKeyArn'],
          message: `is a key in account ${keyAccount}, not the stack's account ${stackAccount}; use a key this account owns, so that its findings stay readable by it`,
        });
      }
    }
    checkAnalytics(ctx, env);
    // A vm or pc of the wrong type ("pc": 0) has its own message; it is not also "absent".
    if (!env.vm && !env.pc && !env.cloudView && isValid(ctx, 'vm') && isValid(ctx, 'pc') && isValid(ctx, 'cloudView')) {
      ctx.addIssue({
        code: 'custom',
        path: ['vm'],
        params: WHOLE,
        message:
          `${sibling('vm')}, ${sibling('pc')} and ${sibling('cloudView')} are all absent or false; ` +
          'configure at least one integration, e.g. "vm": {}',
      });
    }
    const cloudView = env.cloudView && typeof env.cloudView === 'object' ? env.cloudView : undefined;
    const gateway = env.platform !== undefined ? QUALYS_PLATFORMS[env.platform] : env.gatewayUrl;
    if (
      env.cloudView &&
      isValid(ctx, 'cloudView') &&
      gateway &&
      (env.platform === undefined || isValid(ctx, 'platform')) &&
      (env.gatewayUrl === undefined || isValid(ctx, 'gatewayUrl')) &&
      cloudView?.apiUrl === undefined &&
      !connectorApiUrl(cloudView?.api ?? DEFAULTS.cloudView.api, gateway)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['cloudView', 'apiUrl'],
        message:
          `is missing, and the connector API's host cannot be derived from the gateway ${show(redactUrl(gateway))}, which is no Qualys platform's; ` +
          'set it (e.g. "https://qualysapi.qg2.apps.qualys.com"), or use "platform"',
      });
    }
  }, evenWithOtherProblems)
  .transform(({ platform, gatewayUrl, qualysAwsAccountId, vm, pc, cloudView, analytics, ...env }) => {
    // The rule above admits exactly one of the two.
    const gateway = platform !== undefined ? QUALYS_PLATFORMS[platform] : (gatewayUrl as string);
    const qualysAccount = qualysAwsAccountId ?? DEFAULTS.qualysAwsAccountId;
    const connector = cloudView === true ? cloudViewSchema.parse({}) : cloudView || undefined;
    return {
      ...env,
      gatewayUrl: gateway,
      qualysAwsAccountId: qualysAccount,
      // Off (the default) is absent, as for the integrations: nothing of the lake is made.
      analytics: analytics?.enabled ? analytics : undefined,
      vm: vm === true ? vmSchema.parse({}) : vm || undefined,
      pc: pc === true ? pcSchema.parse({}) : pc || undefined,
      cloudView: connector && {
        ...connector,
        qualysAwsAccountId: connector.qualysAwsAccountId ?? qualysAccount,
        // The rule above refuses a connector whose host can be neither given nor derived.
        apiUrl: connector.apiUrl ?? (connectorApiUrl(connector.api, gateway) as string),
      },
    };
  });

// --- the whole configuration ----------------------------------------------------------------

const ENV_NAME = /^[A-Za-z][A-Za-z0-9-]*$/;

/** The configuration as written (the `qualys` context, or a configuration file). */
export const configSchema = strictObject(
  {
    $schema: z
      .string({
        error: (issue) =>
          `must be a string, the path or URL of the JSON Schema (e.g. "./${CONFIG_SCHEMA_FILE}"), got ${show(issue.input)}`,
      })
      .optional()
      .describe('The JSON Schema of this file, for editors.'),
    environments: keepingProtoKey(
      z
        .record(z.string(), environmentSchema, {
          error: (issue) =>
            issue.input === undefined
              ? 'is missing; add at least one environment, e.g. {"environments": {"dev": {...}}}'
              : `must be an object, got ${show(issue.input)}`,
        })
        .meta({
          description: 'One stack per environment, named QualysS3-<environment name>.',
          propertyNames: { pattern: ENV_NAME.source, maxLength: LIMITS.maxEnvNameLength },
          minProperties: 1,
        }),
    ),
  },
  {
    unlisted: ['$schema'],
    notAnObject: (v) => `the configuration must be a JSON object with an "environments" key, got ${show(v)}`,
  },
)
  .superRefine((config, ctx) => {
    const raw: unknown = config.environments;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return;
    const names = Object.keys(config.environments);
    if (names.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['environments'], message: 'is empty; add at least one environment' });
    }
    for (const envName of names) {
      if (!ENV_NAME.test(envName) || envName.length > LIMITS.maxEnvNameLength) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', envName],
          params: WHOLE,
          message:
            `environment name ${show(asWritten(envName))} is not allowed: use letters, digits and hyphens, starting with a letter, ` +
            `at most ${LIMITS.maxEnvNameLength} characters (it becomes the stack name ${stackName('<name>')})`,
        });
      }
      checkDefaultNameLengths(ctx, envName, config.environments[envName] as unknown);
    }
    const valid = names
      .filter((envName) => isValid(ctx, 'environments', envName))
      .map((envName) => withEnvName(envName, config.environments[envName]));
    checkAcrossEnvironments(ctx, valid);
  }, evenWithOtherProblems)
  .transform(({ environments }) => ({
    environments: Object.entries(environments).map(([envName, env]) => withEnvName(envName, env)),
  }));

/** An environment with its name, and what defaults from the name (the lake's database). */
function withEnvName<E extends { readonly analytics?: { readonly databaseName?: string } }>(envName: string, env: E) {
  const { analytics } = env;
  return {
    envName,
    ...env,
    analytics: analytics && { ...analytics, databaseName: analytics.databaseName ?? defaultDatabaseName(envName) },
  };
}

type EnvironmentBeforeTransform = z.core.output<typeof environmentSchema.in>;

/**
 * The findings lake reads what the integrations write: it needs one, and a raw-data expiry that
 * the bucket's own expiry does not already overtake.
 */
function checkAnalytics(ctx: Ctx, env: EnvironmentBeforeTransform): void {
  const analytics = env.analytics;
  if (!analytics?.enabled || !isValid(ctx, 'analytics')) return;
  if (!env.vm && !env.pc && isValid(ctx, 'vm') && isValid(ctx, 'pc')) {
    ctx.addIssue({
      code: 'custom',
      path: ['analytics'],
      message:
        `is enabled, but neither ${sibling('vm')} nor ${sibling('pc')} is configured (a CloudView-only environment has no ` +
        'findings bucket); the findings lake normalizes what Qualys writes into that bucket, so configure "vm" or "pc", ' +
        'or turn analytics off',
    });
  }
  const raw = analytics.rawDataExpirationDays;
  const expire = isValid(ctx, 'bucket', 'expireAfterDays') ? env.bucket?.expireAfterDays : undefined;
  if (raw !== undefined && expire !== undefined && raw >= expire) {
    ctx.addIssue({
      code: 'custom',
      path: ['analytics', 'rawDataExpirationDays'],
      message:
        `is ${raw}, but "bucket.expireAfterDays" (${expire}) already expires every object of the findings bucket, raw ` +
        'findings included, sooner; make rawDataExpirationDays the smaller, or leave it out',
    });
  }
  const topic = isValid(ctx, 'analytics', 'alarmTopicArn') ? analytics.alarmTopicArn : undefined;
  const topicRegion = topic?.split(':')[3];
  const stackRegion = isValid(ctx, 'region') ? env.region : undefined;
  if (topicRegion && stackRegion && topicRegion !== stackRegion) {
    ctx.addIssue({
      code: 'custom',
      path: ['analytics', 'alarmTopicArn'],
      message:
        `is a topic in region ${topicRegion}, but the stack deploys to ${stackRegion}; CloudWatch alarms notify topics in ` +
        "their own region only, so create the topic in the stack's region and name it here",
    });
  }
}

/** A configuration, validated and with every default filled in. */
export type QualysS3Config = z.output<typeof configSchema>;
/** One environment, validated and with every default filled in. */
export type EnvironmentConfig = QualysS3Config['environments'][number];
export type VmConfig = NonNullable<EnvironmentConfig['vm']>;
export type PcConfig = NonNullable<EnvironmentConfig['pc']>;
export type BucketConfig = EnvironmentConfig['bucket'];
/** An existing VPC the handler Lambda is placed in, for accounts whose egress must pass their own network. */
export type VpcConfig = NonNullable<EnvironmentConfig['vpc']>;
/** The CloudView / TotalCloud connector, validated and with every default filled in. */
export type CloudViewConfig = NonNullable<EnvironmentConfig['cloudView']>;
/** The findings lake, enabled, with every default filled in (absent from EnvironmentConfig when off). */
export type AnalyticsConfig = NonNullable<EnvironmentConfig['analytics']>;
/** The configuration as a person writes it (every default optional). */
export type QualysS3ConfigInput = z.input<typeof configSchema>;
/**
 * One environment as the schema reads it; the documented form is EnvironmentSettings
 * (environment-props.ts), which test/config/environment-props.test.ts holds to this.
 */
export type EnvironmentInput = z.input<typeof environmentSchema>;

type Ctx = z.core.$RefinementCtx<unknown>;

/**
 * An integration without a name gets qs3-<env>-<kind>-<account>-<region>, which must fit
 * Qualys's 50 characters; an environment-agnostic stack is checked against the longest region.
 * Checked even when the environment has other problems (its account and region are then
 * used only when they are valid themselves).
 */
function checkDefaultNameLengths(ctx: Ctx, envName: string, env: unknown): void {
  if (typeof env !== 'object' || env === null) return;
  const fields = env as Record<string, unknown>;
  const at = (...path: PropertyKey[]) => ['environments', envName, ...path];
  const validString = (key: string) =>
    typeof fields[key] === 'string' && isValid(ctx, ...at(key)) ? (fields[key] as string) : undefined;
  const account = validString('account');
  const region = validString('region');
  const written = asWritten(envName);
  for (const kind of ['vm', 'pc'] as const) {
    const integration = fields[kind];
    if (integration === undefined || integration === false) continue;
    if (typeof integration === 'object' && integration !== null && 'name' in integration) {
      if ((integration as { name?: unknown }).name !== undefined) continue;
    } else if (integration !== true) continue;
    const name = defaultIntegrationName(
      written,
      kind,
      account ?? '0'.repeat(12),
      region ?? 'x'.repeat(LIMITS.longestRegionLength),
    );
    if (name.length <= MAX_INTEGRATION_NAME_LENGTH) continue;
    const shown =
      account && region ? name : defaultIntegrationName(written, kind, account ?? '<account>', region ?? '<region>');
    ctx.addIssue({
      code: 'custom',
      path: at(kind, 'name'),
      message:
        `is not set, and the default name for environment "${written}" ("${shown}") ` +
        `could be ${name.length} characters, over Qualys's limit of ${MAX_INTEGRATION_NAME_LENGTH}; ` +
        `set ${sibling('name')}, shorten the environment name${account && region ? '' : ', or set "account" and "region"'}`,
    });
  }
}

/**
 * What environments must not share: an integration name on one gateway (explicit, or the
 * default name of another environment, which that environment would adopt as its own), a
 * bucket name (S3 names are global), and, on one Qualys subscription, the CIPS filter and
 * the 100-policy budget (both are subscription-wide).
 */
function checkAcrossEnvironments(ctx: Ctx, environments: readonly EnvironmentConfig[]): void {
  const names = new Map<string, { envName: string; explicit: boolean }>();
  const buckets = new Map<string, string>();
  for (const env of environments) {
    for (const kind of ['vm', 'pc'] as const) {
      const integration = env[kind];
      if (!integration) continue;
      const explicit = integration.name !== undefined;
      const name =
        integration.name ??
        (env.account && env.region ? defaultIntegrationName(env.envName, kind, env.account, env.region) : undefined);
      if (name === undefined) continue;
      const key = `${new URL(env.gatewayUrl).origin} ${kind} ${name}`;
      const other = names.get(key);
      if (other) {
        const [field, owner] = explicit ? [env.envName, other] : [other.envName, { envName: env.envName, explicit }];
        ctx.addIssue({
          code: 'custom',
          path: ['environments', field, kind, 'name'],
          message:
            `is "${name}", the ${owner.explicit ? 'same as' : 'default name of'} ` +
            `environment "${owner.envName}" on the same gateway; give each environment its own integration name`,
        });
      }
      names.set(key, { envName: env.envName, explicit });
    }
    const bucketName = env.bucket.bucketName;
    if (bucketName !== undefined) {
      const other = buckets.get(bucketName);
      if (other) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', env.envName, 'bucket', 'bucketName'],
          message:
            `is "${bucketName}", the same as environment "${other}"; ` +
            'bucket names are global, so give each environment its own bucket (or leave bucketName out)',
        });
      }
      buckets.set(bucketName, env.envName);
    }
  }
  checkConnectors(ctx, environments);
  checkSharedSubscriptions(ctx, environments);
  checkDatabaseNames(ctx, environments);
}

/**
 * Glue databases (and Athena workgroups, which take the same name) are per account and region:
 * two environments that may deploy to the same ones must not name the same database. An
 * environment without an account or region may deploy anywhere.
 */
function checkDatabaseNames(ctx: Ctx, environments: readonly EnvironmentConfig[]): void {
  const seen: EnvironmentConfig[] = [];
  for (const env of environments) {
    const name = env.analytics?.databaseName;
    if (name === undefined) continue;
    const other = seen.find(
      (o) =>
        o.analytics?.databaseName === name &&
        (o.account === undefined || env.account === undefined || o.account === env.account) &&
        (o.region === undefined || env.region === undefined || o.region === env.region),
    );
    if (other) {
      ctx.addIssue({
        code: 'custom',
        path: ['environments', env.envName, 'analytics', 'databaseName'],
        message:
          `is "${name}"${env.analytics?.databaseName === defaultDatabaseName(env.envName) ? ' (the default from the environment name)' : ''}, ` +
          `the same as environment "${other.envName}"'s, and both may deploy to the same account and region, where Glue ` +
          'holds one database of a name; give one of them its own "analytics.databaseName"',
      });
    }
    seen.push(env);
  }
}

/**
 * Qualys holds one connector per AWS account (the reference's reading), and a connector name
 * once per platform: two environments must not both claim either.
 */
function checkConnectors(ctx: Ctx, environments: readonly EnvironmentConfig[]): void {
  const accounts = new Map<string, string>();
  const names = new Map<string, string>();
  for (const env of environments) {
    const cloudView = env.cloudView;
    if (!cloudView) continue;
    const at = ['environments', env.envName, 'cloudView'];
    if (env.account) {
      const other = accounts.get(env.account);
      if (other) {
        ctx.addIssue({
          code: 'custom',
          path: at,
          message:
            `is configured for account ${env.account}, as in environment "${other}"; Qualys holds one connector per AWS ` +
            'account, so configure cloudView in one of them only',
        });
      }
      accounts.set(env.account, env.envName);
    }
    if (cloudView.name !== undefined) {
      const key = `${new URL(cloudView.apiUrl).origin} ${cloudView.name}`;
      const other = names.get(key);
      if (other) {
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'name'],
          message: `is "${cloudView.name}", the same as environment "${other}"'s on the same platform; give each connector its own name`,
        });
      }
      names.set(key, env.envName);
    }
  }
}

/**
 * Environments on one gateway use one Qualys subscription unless their "subscription" labels
 * differ: several accounts onboarding with the same Qualys user is the common case, and the
 * secret's name or account says nothing about which user it holds. They share the CIPS filter
 * and policy list: conflicting filters would overwrite each other on every deploy, and the
 * policies together must fit CIPS's limit.
 */
function checkSharedSubscriptions(ctx: Ctx, environments: readonly EnvironmentConfig[]): void {
  const groups = new Map<string, EnvironmentConfig[]>();
  for (const env of environments) {
    if (!env.pc) continue;
    const key = subscriptionKey(env);
    groups.set(key, [...(groups.get(key) ?? []), env]);
  }
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const withFilter = group.filter((e) => e.pc?.filter);
    const [first] = withFilter;
    for (const env of withFilter.slice(1)) {
      if (JSON.stringify(env.pc?.filter) !== JSON.stringify(first.pc?.filter)) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', env.envName, 'pc', 'filter'],
          message:
            `differs from environment "${first.envName}"'s, and both use one ` +
            `Qualys subscription (same gateway${env.subscription ? ` and "subscription" ${show(env.subscription)}` : ', no "subscription" label'}), ` +
            'whose CIPS filter is subscription-wide; configure the same filter in both, or the filter in one of them only, ' +
            'or give each environment its own "subscription" label if they really use different Qualys subscriptions',
        });
      }
    }
    const policies = new Set(group.flatMap((e) => e.pc?.policies ?? []));
    if (policies.size > MAX_CIPS_POLICIES) {
      ctx.addIssue({
        code: 'custom',
        path: ['environments'],
        params: WHOLE,
        message:
          `environments ${group.map((e) => `"${e.envName}"`).join(', ')} share one Qualys subscription and together ` +
          `configure ${policies.size} CIPS policies; CIPS accepts at most ${MAX_CIPS_POLICIES} per subscription ` +
          '(environments on one gateway share a subscription unless their "subscription" labels differ)',
      });
    }
  }
}

/**
 * Validates a raw configuration (the `qualys` context object, or the file named by
 * `-c config=...`) and fills in every default.
 *
 * @throws ConfigError listing every problem found.
 */
export function parseConfig(raw: unknown, source?: string): QualysS3Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(problemsFrom(result.error.issues), source);
  return result.data;
}

/**
 * Validates one environment's configuration (the keys of `environments.<envName>`) as
 * {@link parseConfig} validates it inside a whole configuration, and fills in every default.
 * Field paths in the messages start at `root`.
 *
 * @throws ConfigError listing every problem found.
 */
export function parseEnvironment(
  envName: string,
  raw: unknown,
  options: { readonly root?: string; readonly source?: string } = {},
): EnvironmentConfig {
  const result = configSchema.safeParse({ environments: { [envName]: raw } });
  if (!result.success) {
    const view = { root: options.root ?? `qualys.environments.${envName}`, under: ['environments', envName] };
    throw new ConfigError(problemsFrom(result.error.issues, view), options.source);
  }
  return result.data.environments[0];
}

/** The committed JSON Schema file (repository root), which configuration files name with `$schema`. */
export const CONFIG_SCHEMA_FILE = 'qualys-s3.schema.json';

/** The JSON Schema of the configuration as a person writes it (defaults optional), for editors. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'qualys-s3-cdk configuration',
  };
}

/** {@link configJsonSchema} as written to {@link CONFIG_SCHEMA_FILE}. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
