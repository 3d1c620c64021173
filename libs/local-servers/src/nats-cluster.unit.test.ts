import { describe, expect, it } from 'vitest';
import { clusterNodeConfig } from './nats-cluster';

describe('clusterNodeConfig', () => {
  it('names the node, routes to its peers only, and includes extra configuration files (e.g. authorization)', () => {
    const text = clusterNodeConfig({ serverName: 'n2', clusterName: 'fairlead', clusterPort: 6223, peerPorts: [6222, 6224], includes: ['auth.conf'] });
    expect(text).toContain('server_name: n2\n');
    expect(text).toContain('  listen: 127.0.0.1:6223\n');
    expect(text.match(/nats-route:\/\/127\.0\.0\.1:(\d+)/g)).toEqual(['nats-route://127.0.0.1:6222', 'nats-route://127.0.0.1:6224']);
    expect(text.trimEnd().split('\n').at(-1)).toBe('include "auth.conf"');
  });
});
