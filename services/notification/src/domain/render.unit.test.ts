import { describe, expect, it } from 'vitest';
import { isTemplateError } from './errors';
import { checkPlaceholders, escapeHtml, placeholdersOf, render } from './render';

describe('render', () => {
  it('replaces {{name}} placeholders, spaces inside the braces allowed', () => {
    expect(render('Hi {{ name }}, {{name}}!', { name: 'Ada' }, 'none')).toBe('Hi Ada, Ada!');
  });

  it('escapes values in HTML, never the template itself', () => {
    const out = render('<p>{{name}}</p>', { name: `<script>alert("x")</script> & 'co'` }, 'html');
    expect(out).toBe('<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;</p>');
  });

  it('keeps a subject on one line whatever the value holds', () => {
    expect(render('New Lead - {{niche}}', { niche: 'Roofing\r\nBcc: evil@example.com' }, 'header')).toBe('New Lead - Roofing Bcc: evil@example.com');
  });

  it('does not evaluate anything: a value that looks like a placeholder or code stays text', () => {
    expect(render('{{a}}', { a: '{{b}} ${process.exit(1)}' }, 'none')).toBe('{{b}} ${process.exit(1)}');
    expect(render('{{ a.b }} {{constructor}}', { constructor: 'c' }, 'none')).toBe('{{ a.b }} c');
  });

  it('fails on a placeholder without a value', () => {
    expect(() => render('{{missing}}', {}, 'none')).toThrowError(/missing/);
  });

  it('lists placeholders and rejects unknown ones with a typed error', () => {
    expect(placeholdersOf('{{a}} {{ b }} {{a}}')).toEqual(['a', 'b']);
    let caught: unknown;
    try {
      checkPlaceholders('{{a}} {{nope}}', ['a'], 'x.html');
    } catch (error) {
      caught = error;
    }
    expect(isTemplateError(caught)).toBe(true);
    expect((caught as Error).message).toContain('x.html uses unknown placeholder(s) {{nope}}');
  });

  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});
