#!/usr/bin/env node
/**
 * Reads the configuration (the `qualys` context key of cdk.json, or the JSON file named by
 * `-c config=<path>`) and makes one stack per environment, named QualysS3-<envName>.
 */
import { App } from 'aws-cdk-lib';
import { loadConfigOrExit } from '../src/config/load-config';
import { stackName } from '../src/config/config';
import { QualysS3Stack } from '../src/infra/qualys-s3-stack';

const app = new App();
const config = loadConfigOrExit(app);
for (const env of config.environments) {
  new QualysS3Stack(app, stackName(env.envName), {
    config: env,
    description: `Qualys S3 findings integration for environment "${env.envName}" (qualys-s3-cdk)`,
  });
}
