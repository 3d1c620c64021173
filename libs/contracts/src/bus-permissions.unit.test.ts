import { describe, expect, it } from 'vitest';
import { ACTOR_SENDING_IDENTITY, allows, BUS_IDENTITIES, commandsCarryingActor, renderBusPermissions, sendersOf, subjectMatches } from './bus-permissions';
import { COMMANDS, type CommandService } from './distribution/commands';
import { SUBJECTS, subjectsFor } from './subjects';

const rendered = renderBusPermissions({ namespace: '', inboxPrefix: (id) => `_INBOX.${id}` });
const nonAdmin = BUS_IDENTITIES.filter((id) => id !== 'admin');

describe('the bus permission table', () => {
  it('lets only the relay publish events', () => {
    const event = SUBJECTS.eventSubject('lead', 'LeadAssigned');
    expect(nonAdmin.filter((id) => allows(rendered[id].publish, event))).toEqual(['relay']);
  });

  it('lets upstream publish lead.approved and nothing else', () => {
    expect(rendered.upstream.publish).toEqual([SUBJECTS.leadApproved]);
    expect(rendered.upstream.subscribe).toEqual(['_INBOX.upstream.>']);
  });

  it('gives every command at most the senders the code uses, and actor-carrying commands only the operator API', () => {
    const actorCommands = commandsCarryingActor();
    expect(actorCommands.map((c) => `${c.service}.${c.verb}`)).toContain('billing.top_up');
    for (const { service, verb } of actorCommands) expect(sendersOf(service, verb), `${service}.${verb}`).toEqual([ACTOR_SENDING_IDENTITY]);
    expect(sendersOf('billing', 'charge')).toEqual(['fairness']);
    expect(sendersOf('rotation', 'claim_start_level')).toEqual(['fairness']);
  });

  it('names only commands that exist', () => {
    for (const id of nonAdmin) {
      for (const subject of rendered[id].publish.filter((s) => s.startsWith('fairlead.cmd.'))) {
        const [, , service, verb] = subject.split('.');
        expect(COMMANDS[service as CommandService], subject).toBeDefined();
        expect(Object.keys(COMMANDS[service as CommandService]), subject).toContain(verb);
      }
    }
  });

  it('reserves stream and consumer administration to admin', () => {
    const adminSubjects = ['$JS.API.STREAM.CREATE.FAIRLEAD_EVENTS', '$JS.API.STREAM.DELETE.LEAD_INTAKE', '$JS.API.STREAM.UPDATE.FAIRLEAD_EVENTS', '$JS.API.STREAM.PURGE.FAIRLEAD_DLQ', '$JS.API.CONSUMER.DELETE.FAIRLEAD_EVENTS.fairness-distribution', '$JS.API.CONSUMER.CREATE.FAIRLEAD_EVENTS.other'];
    for (const subject of adminSubjects) expect(nonAdmin.filter((id) => allows(rendered[id].publish, subject)), subject).toEqual([]);
    expect(allows(rendered.admin.publish, adminSubjects[0]!)).toBe(true);
  });

  it('covers any namespace for the test server, stream names included', () => {
    const any = renderBusPermissions({ namespace: '*', inboxPrefix: (id) => `_INBOX.${id}` });
    const ns = subjectsFor('t_1234');
    expect(allows(any.fairness.publish, ns.command('billing', 'charge'))).toBe(true);
    expect(allows(any.fairness.publish, SUBJECTS.command('billing', 'charge'))).toBe(true);
    expect(allows(any.intake.publish, `$JS.API.CONSUMER.MSG.NEXT.${ns.streams.leadIntake}.intake-lead-approved`)).toBe(true);
    expect(allows(any.upstream.publish, ns.command('billing', 'top_up'))).toBe(false);
  });

  it('matches subjects as nats-server does', () => {
    expect(subjectMatches('a.*.c', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.*', 'a.b.c')).toBe(false);
  });
});
