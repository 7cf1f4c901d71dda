import { ArnFormat, type CfnResource, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ALLOWED_GATEWAYS_ENV, isLoopbackHost } from '../core/contract';
import type { VpcConfig } from '../config/config';
import { handlerAssetDir } from './handler-asset';

/** The handler's own timeout: under the Provider framework's 15 minutes, so the framework always answers. */
export const HANDLER_TIMEOUT = Duration.minutes(14);

export interface IntegrationProviderProps {
  /** The Secrets Manager secret holding {"username","password"}: its name or ARN, or the secret itself. */
  readonly credentialsSecret: string | secretsmanager.ISecret;
  /**
   * The Qualys gateway(s) the handler may send the credentials to (https, or http to a
   * loopback test server). Written into the function's own environment; the handler refuses
   * any event that names another gateway.
   */
  readonly allowedGateways: readonly string[];
  /** Retention of the functions' log groups, in days. */
  readonly logRetention: logs.RetentionDays;
  /**
   * An HTTP(S) proxy the handler reaches Qualys through.
   * @default - direct
   */
  readonly proxyUrl?: string;
  /**
   * An existing VPC to run the handler in (its subnets need a route to the Qualys gateway and
   * to the IAM and Secrets Manager APIs: NAT, a proxy, or VPC endpoints).
   * @default - Lambda's own network
   */
  readonly vpc?: VpcConfig;
}

/**
 * The custom-resource provider: the handler Lambda (its bundle from {@link handlerAssetDir}), the Provider
 * framework in front of it, their log groups, and least-privilege roles. The handler may
 * read only the credentials secret and change only the trust policies of the roles it is
 * handed with {@link allowTrustEdits}.
 */
export class IntegrationProvider extends Construct {
  readonly serviceToken: string;
  readonly handler: lambda.Function;
  private readonly handlerRole: iam.Role;

  constructor(scope: Construct, id: string, props: IntegrationProviderProps) {
    super(scope, id);
    const pinned = props.allowedGateways.map(pinnableOrigin);
    // Retained: it holds the record of the deregistration that `cdk destroy` performs (its
    // retention still ends it).
    const handlerLogs = new logs.LogGroup(this, 'HandlerLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.handlerRole = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Registers the Qualys S3 integration and edits the Qualys role trust policy',
    });
    allowLogging(this.handlerRole, handlerLogs);

    if (typeof props.credentialsSecret === 'string') {
      this.handlerRole.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadQualysCredentials',
          actions: ['secretsmanager:GetSecretValue'],
          resources: secretArns(this, props.credentialsSecret),
        }),
      );
    } else {
      // Granted in the handler's own policy, never in the secret's or its key's (which may be
      // another stack's: a grant there would make that stack depend on this one, a cycle).
      const secret = props.credentialsSecret;
      this.handlerRole.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadQualysCredentials',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
        }),
      );
      if (secret.encryptionKey) {
        this.handlerRole.addToPolicy(
          new iam.PolicyStatement({
            sid: 'DecryptQualysCredentials',
            actions: ['kms:Decrypt'],
            resources: [secret.encryptionKey.keyArn],
            conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
          }),
        );
      }
    }
    this.handlerRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadOwnStackStatus',
        actions: ['cloudformation:DescribeStacks'],
        resources: [Stack.of(this).stackId],
      }),
    );

    const placement = props.vpc ? this.placeInVpc(props.vpc) : {};

    this.handler = new lambda.Function(this, 'Handler', {
      ...placement,
      code: lambda.Code.fromAsset(handlerAssetDir()),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: HANDLER_TIMEOUT,
      role: this.handlerRole,
      logGroup: handlerLogs,
      loggingFormat: lambda.LoggingFormat.TEXT,
      description: 'Qualys S3 integration custom resource (register, validate, update, deregister)',
      // The handler's HTTP client honours these (and NO_PROXY) for its calls to Qualys.
      environment: {
        [ALLOWED_GATEWAYS_ENV]: pinned.join(','),
        ...(props.proxyUrl ? { HTTPS_PROXY: props.proxyUrl, HTTP_PROXY: props.proxyUrl } : {}),
      },
    });

    const frameworkLogs = new logs.LogGroup(this, 'FrameworkLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const frameworkRole = new iam.Role(this, 'FrameworkRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Provider framework: relays CloudFormation events to the Qualys integration handler',
    });
    allowLogging(frameworkRole, frameworkLogs);
    const provider = new Provider(this, 'Provider', {
      onEventHandler: this.handler,
      logGroup: frameworkLogs,
      frameworkOnEventRole: frameworkRole,
    });
    this.serviceToken = provider.serviceToken;
    // The framework names its function after its construct path. QualysS3Stack nests everything
    // under "Default", which logical IDs leave out; so must the description, or every stack
    // deployed before would see its framework function updated.
    const onEvent = provider.node.tryFindChild('framework-onEvent')?.node.defaultChild as
      | lambda.CfnFunction
      | undefined;
    if (onEvent && this.node.scopes.some((s) => s.node.id === 'Default')) {
      const shown = this.node.scopes
        .slice(1)
        .map((s) => s.node.id)
        .filter((part) => part !== 'Default');
      onEvent.description = `AWS CDK resource provider framework - onEvent (${[...shown, 'Provider'].join('/')})`;
    }
    const handlerId = Stack.of(this).resolve(
      Stack.of(this).getLogicalId(this.handler.node.defaultChild as CfnResource),
    );
    Validations.of(frameworkRole).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${handlerId}.Arn>:*]`,
      reason:
        "aws-cdk-lib's Provider framework may invoke the handler function and its versions (<handler ARN>:*); " +
        'the wildcard covers versions of that one function only',
    });
  }

  /**
   * The handler's VPC placement, and the network-interface permissions Lambda needs for it. They
   * are granted inline rather than by the AWS managed VPC-access policy, so that the role holds
   * nothing else; Lambda creates the interfaces before their IDs exist, so they cannot be named.
   */
  private placeInVpc(vpc: VpcConfig): Pick<lambda.FunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'> {
    const statement = new iam.PolicyStatement({
      sid: 'ManageOwnNetworkInterfaces',
      actions: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      resources: ['*'],
    });
    this.handlerRole.addToPolicy(statement);
    Validations.of(this.handlerRole).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'Lambda creates and deletes the network interfaces of a VPC function with its execution role before their IDs exist, ' +
        'and the Describe actions take no resource; these are the actions of AWSLambdaVPCAccessExecutionRole, granted inline',
    });
    return {
      vpc: ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: vpc.vpcId, availabilityZones: Fn.getAzs() }),
      vpcSubnets: { subnets: vpc.subnetIds.map((id, i) => ec2.Subnet.fromSubnetId(this, `Subnet${i}`, id)) },
      securityGroups: vpc.securityGroupIds.map((id, i) =>
        ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, id, { mutable: false }),
      ),
    };
  }

  /** Lets the handler read and rewrite this role's trust policy (and no other role's). */
  allowTrustEdits(role: iam.IRole): void {
    this.handlerRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['iam:GetRole', 'iam:UpdateAssumeRolePolicy'],
        resources: [role.roleArn],
      }),
    );
  }
}

function allowLogging(role: iam.Role, logGroup: logs.ILogGroup): void {
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
  );
}

/** The origin of a gateway URL credentials may go to; throws for any other URL. */
function pinnableOrigin(gateway: string): string {
  const url = new URL(gateway);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return url.origin;
  throw new Error(
    `allowedGateways: ${url.protocol}//${url.host} must use https (plain http only for a loopback test server)`,
  );
}

/**
 * The ARNs that name the credentials secret and nothing else. Secrets Manager appends a
 * hyphen and 6 characters to every secret's name in its ARN: a complete ARN (ending in them)
 * is granted exactly; a name, or a partial ARN without them, with exactly six wildcard
 * characters. (A secret whose own name ends in a hyphen and six letters or digits should be
 * given by name or by its complete ARN.)
 */
export function secretArns(scope: Construct, nameOrArn: string): string[] {
  if (nameOrArn.startsWith('arn:')) {
    const name = nameOrArn.split(':').slice(6).join(':');
    return /-[A-Za-z0-9]{6}$/.test(name) ? [nameOrArn] : [`${nameOrArn}-??????`];
  }
  return [
    Stack.of(scope).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${nameOrArn}-??????`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
  ];
}
