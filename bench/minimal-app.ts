/**
 * The baseline for the synth benchmark: one empty stack, same toolchain and app command
 * (tsx + aws-cdk-lib) as bin/app.ts.
 */
import { App, Stack } from 'aws-cdk-lib';

const app = new App();
new Stack(app, 'Minimal');
