/** A Temporal dev server of a test's own: on 127.0.0.1, namespace `default`, every port a free one. */
import { freePort } from '../../src/stack/free-port.js';
import type { DevServerOptions } from '../../src/stack/temporal-dev-server.js';

export async function devServerOptions(dataDir: string, more: Partial<DevServerOptions> = {}): Promise<DevServerOptions> {
  return {
    dataDir,
    host: '127.0.0.1',
    namespace: 'default',
    port: await freePort(),
    uiPort: await freePort(),
    httpPort: await freePort(),
    metricsPort: await freePort(),
    ...more,
  };
}
