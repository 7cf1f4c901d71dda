import { Duration } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { RAW_PREFIXES } from '../../core/findings/layout';

/**
 * Lifecycle rules that expire the raw objects Qualys writes (one rule per raw prefix), on a
 * findings bucket this stack creates. The curated Parquet in the lake bucket is not touched; the
 * configuration refuses a raw expiry that the bucket's own expireAfterDays would overtake.
 */
export function expireRawFindings(bucket: s3.Bucket, days: number): void {
  const rules: Array<[string, string]> = [
    ['ExpireRawPostures', RAW_PREFIXES.pc],
    ['ExpireRawVmFindings', RAW_PREFIXES.vm],
  ];
  for (const [id, prefix] of rules) bucket.addLifecycleRule({ id, prefix, expiration: Duration.days(days) });
}
