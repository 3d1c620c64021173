import { describe, expect, it } from 'vitest';
import { discoverServices, portVariable, servicePorts, SERVICE_PORTS } from './services';
import { startConfigSchema } from './start-config';

const ROOT = new URL('../..', import.meta.url).pathname;

describe("npm start's service ports", () => {
  it('are the fixed defaults when nothing is set', () => {
    expect(servicePorts({})).toEqual(SERVICE_PORTS);
    expect(discoverServices(ROOT, {}).map((s) => [s.name, s.port])).toEqual(Object.entries(SERVICE_PORTS));
  });

  it('move together with FAIRLEAD_HTTP_PORT_BASE, and one by one with FAIRLEAD_<SERVICE>_PORT', () => {
    const ports = servicePorts({ FAIRLEAD_HTTP_PORT_BASE: '8100', FAIRLEAD_OPERATOR_API_PORT: '9000', FAIRLEAD_TICKET_WORKFLOW_PORT: '9001' });
    expect(ports).toEqual({ 'operator-api': 9000, intake: 8101, rotation: 8102, fairness: 8103, billing: 8104, notification: 8105, 'ticket-workflow': 9001, relay: 8107 });
    expect(discoverServices(ROOT, { FAIRLEAD_RELAY_PORT: '17107' }).find((s) => s.name === 'relay')?.port).toBe(17107);
  });

  it('name one variable per service', () => {
    expect(Object.keys(SERVICE_PORTS).map(portVariable)).toEqual([
      'FAIRLEAD_OPERATOR_API_PORT',
      'FAIRLEAD_INTAKE_PORT',
      'FAIRLEAD_ROTATION_PORT',
      'FAIRLEAD_FAIRNESS_PORT',
      'FAIRLEAD_BILLING_PORT',
      'FAIRLEAD_NOTIFICATION_PORT',
      'FAIRLEAD_TICKET_WORKFLOW_PORT',
      'FAIRLEAD_RELAY_PORT',
    ]);
  });

  it('refuse a port that is not one, a base that pushes the last service past 65535, and two services on one port', () => {
    expect(() => servicePorts({ FAIRLEAD_INTAKE_PORT: 'http' })).toThrow(/expected a port number/);
    expect(() => servicePorts({ FAIRLEAD_HTTP_PORT_BASE: '65530' })).toThrow();
    expect(() => servicePorts({ FAIRLEAD_INTAKE_PORT: '7100' })).toThrow(/operator-api and intake would both listen on port 7100/);
    // npm start reports a bad port with its other configuration problems, before starting anything.
    const parsed = startConfigSchema.safeParse({ FAIRLEAD_BILLING_PORT: '70000' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['FAIRLEAD_BILLING_PORT']);
    const clash = startConfigSchema.safeParse({ FAIRLEAD_RELAY_PORT: '7101' });
    expect(clash.error?.issues.map((i) => i.message)).toEqual(['intake and relay would both listen on port 7101; set FAIRLEAD_RELAY_PORT or FAIRLEAD_HTTP_PORT_BASE']);
  });
});
