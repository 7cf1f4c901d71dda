/**
 * Keeps the suite hermetic: a developer's proxy settings must not route the tests' loopback
 * traffic (simulator, fake AWS) through a corporate proxy. Tests that exercise proxies set
 * these variables themselves.
 */
for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) {
  delete process.env[name];
}

/**
 * Quiet runs (issue 10, items 15 and 17). The SDK's Node-version notice is about the SDK's
 * future releases, not about this code, and the project supports Node 20; aws-cdk-lib writes
 * "Bundling asset ..." to stderr for every synthesized handler. Both hide real failures in
 * the output, so the tests drop exactly these and nothing else.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const writeStderr = process.stderr.write.bind(process.stderr);
process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  if (typeof chunk === 'string' && /^Bundling asset \S+\.\.\.\n$/.test(chunk)) return true;
  return (writeStderr as (...args: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stderr.write;
