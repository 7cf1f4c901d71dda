/**
 * Keeps the suite hermetic: a developer's proxy settings must not route the tests' loopback
 * traffic (simulator, fake AWS) through a corporate proxy. Tests that exercise proxies set
 * these variables themselves.
 */
for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) {
  delete process.env[name];
}
