/** Progress of a rebuild: a bar with rate and ETA on a terminal, a plain line every few seconds otherwise. */
import type { Progress } from '../replay/rebuild';

export function progressReporter(stream: NodeJS.WriteStream, label: string): { update(p: Progress): void; done(): void } {
  const started = Date.now();
  let lastLine = 0;
  let last: Progress | undefined;
  const render = (p: Progress, final: boolean) => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    const rate = p.events / seconds;
    const fraction = p.head > 0n ? Math.min(Number(p.position) / Number(p.head), 1) : 1;
    const eta = fraction > 0 && fraction < 1 ? (seconds / fraction) * (1 - fraction) : 0;
    const numbers = `${p.events} events, ${Math.round(rate)}/s, position ${p.position}/${p.head}${final ? `, ${seconds.toFixed(1)} s` : `, ETA ${eta.toFixed(0)} s`}`;
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(1)}% ${numbers}\x1b[K${final ? '\n' : ''}`);
    } else if (final || Date.now() - lastLine >= 2_000) {
      lastLine = Date.now();
      stream.write(`${label}: ${(fraction * 100).toFixed(1)}% ${numbers}\n`);
    }
  };
  return {
    update: (p) => {
      last = p;
      render(p, false);
    },
    done: () => {
      if (last) render(last, true);
    },
  };
}
