import { describe, expect, it } from 'vitest';
import { parseKeywordFile } from './keywords';
import { formatLogLine } from './log-file';
import { issueFileName, templateSlug } from './numbering';
import { keywordsIn, renderTemplate, titleOf } from './render';

describe('template rendering', () => {
  it('substitutes known keywords and reports unknown ones, leaving them visible', () => {
    const { content, unknown } = renderTemplate('# {{project_name}} audit\nOwner: {{ owner }}\n{{missing}} and {{missing}} and {{other}}', {
      project_name: 'web',
      owner: 'ana',
    });
    expect(content).toBe('# web audit\nOwner: ana\n{{missing}} and {{missing}} and {{other}}');
    expect(unknown).toEqual(['missing', 'other']);
  });

  it('inserts values as text: nothing is expanded again or executed', () => {
    const { content, unknown } = renderTemplate('{{a}} {{b}}', { a: '$(touch /tmp/pwned) `id`', b: '{{a}}' });
    expect(content).toBe('$(touch /tmp/pwned) `id` {{a}}');
    expect(unknown).toEqual([]);
  });

  it('stops substituting at a maximum length, so large values repeated cannot fill the memory', () => {
    const template = '{{big}}'.repeat(1000);
    const rendered = renderTemplate(template, { big: 'x'.repeat(10_000) }, 50_000);
    expect(rendered.tooLong).toBe(true);
    expect(rendered.content.length).toBeLessThanOrEqual(50_000);
    expect(renderTemplate('{{a}}', { a: 'b' }, 10)).toEqual({ content: 'b', unknown: [], tooLong: false });
  });

  it('does not take object prototype members for keywords', () => {
    expect(renderTemplate('{{constructor}} {{toString}}', {}).unknown).toEqual(['constructor', 'toString']);
  });

  it('lists keywords and finds a title', () => {
    expect(keywordsIn('{{a}} {{b}} {{a}}')).toEqual(['a', 'b']);
    expect(titleOf('intro\n## Security audit for web ##\n', 'x')).toBe('Security audit for web');
    expect(titleOf('no heading', 'fallback')).toBe('fallback');
  });
});

describe('keyword files', () => {
  it('reads name = value lines, comments and quoted values', () => {
    expect(parseKeywordFile('# team\nowner = ana\nspaced = "  two  "\n\nlang=ts\n')).toEqual({ owner: 'ana', spaced: '  two  ', lang: 'ts' });
  });

  it('says which line is wrong', () => {
    expect(() => parseKeywordFile('owner = ana\nthis is not a pair\n', 'web/.ticket_keywords')).toThrow('web/.ticket_keywords:2');
  });
});

describe('names', () => {
  it('numbers issue files with three digits and a slug of the template', () => {
    expect(issueFileName(7, 'Security Audit.md')).toBe('007-security-audit.md');
    expect(issueFileName(1234, 'x')).toBe('1234-x.md');
    expect(templateSlug('***')).toBe('ticket');
  });

  it('writes log lines in the original format, never breaking the columns', () => {
    const line = formatLogLine({
      timestamp: new Date('2025-03-04T05:06:07.890Z'),
      distributionId: 'dist_1',
      project: 'we|b',
      issueFile: '004-audit.md',
      template: 'audit\nx',
      status: 'success',
    });
    expect(line).toBe('2025-03-04 05:06:07|dist_1|we_b|004-audit.md|audit_x|success');
  });
});
