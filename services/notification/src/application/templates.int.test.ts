import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { leadAssignedVariables, lowBalanceVariables } from '../domain/emails';
import { isTemplateError } from '../domain/errors';
import { DEFAULT_TEMPLATES_DIR, loadTemplates } from './templates';

const vars = leadAssignedVariables({
  provider: { name: 'Acme <Roofing>', email: 'acme@example.com' },
  nicheName: 'Roofing',
  levelName: 'Gold',
  priceCents: 2500,
  assignedAt: '2025-01-01T00:00:00.000Z',
  lead: { lead_id: 'lead-1', postal_code: '78701', state: 'TX', city: 'Austin', consumer_first_name: 'Maria' },
});

describe('templates (files)', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fairlead-templates-'));
    dirs.push(dir);
    return dir;
  };

  it('renders the shipped lead_assigned email: its subject line, escaped HTML', async () => {
    const templates = await loadTemplates();
    const email = templates.render('lead_assigned', vars);
    expect(email.subject).toBe('New Lead Assigned - Roofing');
    expect(email.text).toContain('Hi Acme <Roofing>,');
    expect(email.text).toContain('Competition Level: Gold');
    expect(email.text).toContain('Amount Charged: $25.00');
    expect(email.text).toContain('Location: Austin, TX 78701');
    expect(email.text).toContain('Contact first name: Maria');
    expect(email.html).toContain('Hi Acme &lt;Roofing&gt;,');
    expect(email.html).not.toContain('<Roofing>');
    expect(templates.sources('lead_assigned').subject).toBe(join(DEFAULT_TEMPLATES_DIR, 'lead_assigned.subject'));
  });

  it('renders the shipped low_balance email, one for every subscription the pause stopped', async () => {
    const templates = await loadTemplates();
    const provider = { name: 'Acme', email: 'a@example.com' };
    const one = templates.render('low_balance', lowBalanceVariables({ provider, paused: [{ nicheName: 'Roofing', levelName: 'Gold', subscriptionId: 's1' }], pausedAt: 'now' }));
    expect(one.subject).toBe('Leads paused: low balance - Roofing');
    expect(one.text).toContain('paused: Roofing (Gold).');
    const two = templates.render(
      'low_balance',
      lowBalanceVariables({
        provider,
        paused: [
          { nicheName: 'Roofing', levelName: 'Gold', subscriptionId: 's1' },
          { nicheName: 'Solar', levelName: 'Bronze', subscriptionId: 's2' },
        ],
        pausedAt: 'now',
      }),
    );
    expect(two.subject).toBe('Leads paused: low balance - Roofing, Solar');
    expect(two.text).toContain('paused: Roofing (Gold), Solar (Bronze).');
    expect(two.html).toContain('Roofing (Gold), Solar (Bronze)');
  });

  it('takes a file from the override directory when it exists, the default otherwise', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'lead_assigned.subject'), '[{{level_name}}] lead in {{lead_location}}\n');
    const templates = await loadTemplates({ overrideDir: dir });
    const email = templates.render('lead_assigned', vars);
    expect(email.subject).toBe('[Gold] lead in Austin, TX 78701');
    expect(email.text).toContain('You have been assigned a new lead!');
    expect(templates.sources('lead_assigned')).toEqual({
      subject: join(dir, 'lead_assigned.subject'),
      text: join(DEFAULT_TEMPLATES_DIR, 'lead_assigned.text'),
      html: join(DEFAULT_TEMPLATES_DIR, 'lead_assigned.html'),
    });
  });

  it('refuses at load time an override using a placeholder the email does not provide', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'lead_assigned.html'), '<p>{{consumer_phone}}</p>');
    const error = await loadTemplates({ overrideDir: dir }).catch((e: unknown) => e);
    expect(isTemplateError(error)).toBe(true);
    expect((error as Error).message).toContain('{{consumer_phone}}');
    expect((error as Error).message).toContain(join(dir, 'lead_assigned.html'));
  });

  it('refuses a multi-line subject and a missing template', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'low_balance.subject'), 'one\ntwo');
    expect(isTemplateError(await loadTemplates({ overrideDir: dir }).catch((e: unknown) => e))).toBe(true);
    const empty = await tempDir();
    const error = await loadTemplates({ defaultDir: empty }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/template lead_assigned\.subject not found/);
  });
});
