import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { tablePrefix } from '../../core/findings/layout';
import { GLUE_TYPES, PARTITION_COLUMN, TABLE_COLUMNS, TABLE_NAMES, type TableName } from '../../core/findings/tables';

/**
 * The first day partition projection knows. Qualys's S3 integration is younger, and a backfill
 * of older objects lands in their own day folders; a query without a `day` filter lists one
 * prefix per day from here, which S3 answers quickly for empty days.
 */
export const PROJECTION_START_DAY = '2020-01-01';

/**
 * The last day partition projection knows, in Athena's relative range syntax: a day ahead of
 * UTC's today. A delivery folder is named by a date that may be a time zone ahead of UTC (the
 * partition day is the key's date folder), and with `NOW` its rows would stay invisible until
 * UTC reached that day.
 */
export const PROJECTION_END_DAY = 'NOW+1DAYS';

const PARQUET = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
} as const;

const DESCRIPTIONS: Readonly<Record<TableName, string>> = {
  pc_postures: 'Qualys PC postures: one row per host, policy and control posture (qualys-s3-cdk findings lake)',
  vm_findings: 'Qualys VM findings: every record whole in raw, known fields picked out (qualys-s3-cdk findings lake)',
};

export interface GlueCatalogProps {
  /** The Glue database's name (the configuration's analytics.databaseName). */
  readonly databaseName: string;
  /** The lake bucket: each table lies under curated/<table>/. */
  readonly lakeBucket: s3.IBucket;
}

/**
 * The Glue database and one table per curated table (columns from tables.ts), Parquet, with
 * partition projection on `day`: no crawler, and no partition to add when a day begins.
 */
export class GlueCatalog extends Construct {
  readonly database: glue.CfnDatabase;
  readonly databaseName: string;
  readonly tables: Readonly<Record<TableName, glue.CfnTable>>;

  constructor(scope: Construct, id: string, props: GlueCatalogProps) {
    super(scope, id);
    const catalogId = Stack.of(this).account;
    this.databaseName = props.databaseName;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId,
      databaseInput: {
        name: props.databaseName,
        description: 'Qualys PC postures and VM findings as Parquet (qualys-s3-cdk findings lake)',
      },
    });
    const tables = {} as Record<TableName, glue.CfnTable>;
    for (const table of TABLE_NAMES) {
      const location = `s3://${props.lakeBucket.bucketName}/${tablePrefix(table)}`;
      const resource = new glue.CfnTable(this, pascal(table), {
        catalogId,
        // The database's Ref is its name: the table waits for the database.
        databaseName: this.database.ref,
        tableInput: {
          name: table,
          description: DESCRIPTIONS[table],
          tableType: 'EXTERNAL_TABLE',
          parameters: {
            classification: 'parquet',
            EXTERNAL: 'TRUE',
            'projection.enabled': 'true',
            [`projection.${PARTITION_COLUMN}.type`]: 'date',
            [`projection.${PARTITION_COLUMN}.format`]: 'yyyy-MM-dd',
            [`projection.${PARTITION_COLUMN}.range`]: `${PROJECTION_START_DAY},${PROJECTION_END_DAY}`,
            [`projection.${PARTITION_COLUMN}.interval`]: '1',
            [`projection.${PARTITION_COLUMN}.interval.unit`]: 'DAYS',
            'storage.location.template': `${location}${PARTITION_COLUMN}=\${${PARTITION_COLUMN}}/`,
          },
          partitionKeys: [
            { name: PARTITION_COLUMN, type: 'string', comment: 'the day folder the source object was delivered in' },
          ],
          storageDescriptor: {
            location,
            inputFormat: PARQUET.inputFormat,
            outputFormat: PARQUET.outputFormat,
            serdeInfo: {
              serializationLibrary: PARQUET.serializationLibrary,
              parameters: { 'serialization.format': '1' },
            },
            columns: TABLE_COLUMNS[table].map((c) => ({ name: c.name, type: GLUE_TYPES[c.kind], comment: c.comment })),
          },
        },
      });
      tables[table] = resource;
    }
    this.tables = tables;
  }
}

const pascal = (name: string) => name.replace(/(^|[_-])([a-z])/g, (_, __, c: string) => c.toUpperCase());
