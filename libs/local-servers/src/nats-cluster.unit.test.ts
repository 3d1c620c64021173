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

describe('clusterNodeConfig with route credentials', () => {
  it('makes the node ask its peers for the route password and use it on its own routes', () => {
    const text = clusterNodeConfig({ serverName: 'n1', clusterName: 'fairlead', clusterPort: 6222, peerPorts: [6223], routeAuth: { user: 'fairlead-route', password: 'pw_1-x' } });
    expect(text).toContain('  authorization {\n    user: "fairlead-route"\n    password: "pw_1-x"\n  }\n');
    expect(text).toContain('nats-route://fairlead-route:pw_1-x@127.0.0.1:6223');
  });
});
