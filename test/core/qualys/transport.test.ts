import { undiciTransport } from '../../../src/core/qualys/transport';
import { ConnectProxy } from '../../support/connect-proxy';
import { QualysSimulator } from '../../../sim/qualys-simulator';

let sim: QualysSimulator;
let gateway: string;
let proxy: ConnectProxy;
let proxyUrl: string;
const saved = { ...process.env };

beforeAll(async () => {
  sim = new QualysSimulator();
  gateway = await sim.start();
  proxy = new ConnectProxy();
  proxyUrl = await proxy.start();
});
afterAll(async () => {
  await proxy.stop();
  await sim.stop();
});
afterEach(() => {
  process.env = { ...saved };
  proxy.tunnels.length = 0;
});

const authRequest = (url: string) => ({
  method: 'POST',
  url: `${url}/auth`,
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: 'username=qualys-user&password=S3cr3t-P%40ss&token=true',
});

describe('the undici transport and proxies', () => {
  test('GIVEN a configured proxy URL WHEN a request is sent THEN it goes through a CONNECT tunnel to the gateway and is answered', async () => {
    const transport = undiciTransport(5000, { proxyUrl });
    const res = await transport(authRequest(gateway));
    expect(res.status).toBe(200);
    expect(proxy.tunnels).toEqual([new URL(gateway).host]);
  });

  test('GIVEN HTTP_PROXY in the environment WHEN a request is sent THEN it goes through that proxy', async () => {
    process.env.HTTP_PROXY = proxyUrl;
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    const res = await undiciTransport(5000)(authRequest(gateway));
    expect(res.status).toBe(200);
    expect(proxy.tunnels).toEqual([new URL(gateway).host]);
  });

  test('GIVEN HTTP_PROXY and a NO_PROXY that names the gateway WHEN a request is sent THEN it goes direct', async () => {
    process.env.HTTP_PROXY = proxyUrl;
    process.env.NO_PROXY = '127.0.0.1';
    const res = await undiciTransport(5000)(authRequest(gateway));
    expect(res.status).toBe(200);
    expect(proxy.tunnels).toEqual([]);
  });

  test('GIVEN no proxy anywhere WHEN a request is sent THEN it goes direct', async () => {
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) delete process.env[name];
    const res = await undiciTransport(5000)(authRequest(gateway));
    expect(res.status).toBe(200);
    expect(proxy.tunnels).toEqual([]);
  });
});
