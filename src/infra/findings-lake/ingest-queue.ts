import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RAW_PREFIXES } from '../../core/findings/layout';

/** The queue's settings, in one place. */
export const INGEST_QUEUE = {
  /** Receives before a message goes to the dead-letter queue. */
  maxReceiveCount: 5,
  /**
   * SQS's maximum: a backfill queues every object at once, and the normalizer may take days to
   * reach the last of them; a message must not expire before (SQS's default, 4 days, would drop them).
   */
  retention: Duration.days(14),
  deadLetterRetention: Duration.days(14),
  /** The backlog alarm: the oldest message has waited this long (a few retry cycles). */
  oldestMessageAlarmAge: Duration.hours(6),
} as const;

export interface IngestQueueProps {
  /** The bucket Qualys writes findings into. */
  readonly findingsBucket: s3.IBucket;
  /** The consumer's timeout: the visibility timeout is six times it (AWS's advice for an SQS event source). */
  readonly consumerTimeout: Duration;
  /**
   * The topic both alarms notify, going into alarm and back to OK. Nothing is granted on it (nor
   * on its KMS key): its owner lets CloudWatch publish.
   * @default - the alarms have no actions
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * What tells the normalizer a source object has landed: S3 "object created" notifications for
 * the two raw prefixes into an SQS queue (SSE-SQS, TLS only), a dead-letter queue for messages
 * that failed five times, and two alarms: anything in the dead-letter queue, and a backlog
 * (notifying a topic when one is given).
 */
export class IngestQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** In alarm while the dead-letter queue holds a message. */
  readonly deadLetterAlarm: cloudwatch.Alarm;
  /** In alarm while the oldest message has waited more than six hours. */
  readonly backlogAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: IngestQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: INGEST_QUEUE.deadLetterRetention,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      // SSE-SQS: S3 can send to it (a queue under the AWS managed key aws/sqs it cannot).
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      retentionPeriod: INGEST_QUEUE.retention,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: INGEST_QUEUE.maxReceiveCount },
    });
    const destination = new s3n.SqsDestination(this.queue);
    // A bucket of another stack would get the notification resource in its own stack, which would
    // then depend on this one's queue while this one depends on its bucket: a cycle. Imported
    // here, the notifications are written from this stack (unmanaged: the bucket's others stay).
    const bucket =
      Stack.of(props.findingsBucket) === Stack.of(this)
        ? props.findingsBucket
        : s3.Bucket.fromBucketAttributes(this, 'FindingsBucket', {
            bucketArn: props.findingsBucket.bucketArn,
            bucketName: props.findingsBucket.bucketName,
          });
    for (const prefix of [RAW_PREFIXES.pc, RAW_PREFIXES.vm]) {
      bucket.addEventNotification(s3.EventType.OBJECT_CREATED, destination, { prefix });
    }
    acknowledgeNotificationsHandler(this);

    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
      alarmDescription:
        'Qualys findings the normalizer failed five times are in the dead-letter queue: read its logs, fix, then redrive',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.backlogAlarm = new cloudwatch.Alarm(this, 'BacklogAlarm', {
      alarmDescription: 'The findings lake is more than six hours behind what Qualys delivered',
      metric: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: INGEST_QUEUE.oldestMessageAlarmAge.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) {
      const notify = new cloudwatchActions.SnsAction(props.alarmTopic);
      for (const alarm of [this.deadLetterAlarm, this.backlogAlarm]) {
        alarm.addAlarmAction(notify);
        alarm.addOkAction(notify);
      }
    }
  }
}

/** aws-cdk-lib's one handler per stack that writes S3 bucket notifications (a custom resource). */
const NOTIFICATIONS_HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

function acknowledgeNotificationsHandler(scope: Construct): void {
  const role = Stack.of(scope).node.tryFindChild(NOTIFICATIONS_HANDLER_ID)?.node.tryFindChild('Role');
  if (!role) return;
  Validations.of(role).acknowledge({
    id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      "aws-cdk-lib's S3 bucket-notifications handler attaches AWSLambdaBasicExecutionRole itself (logging only); its " +
      'other permissions are s3:PutBucketNotification (and GetBucketNotification) on the findings bucket alone. S3 ' +
      'validates the queue when the notification is written, which is why a custom resource writes it after the queue policy',
  });
}
