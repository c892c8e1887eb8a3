/** --verbose: outgoing audio summarised once a second ("50 appends · 32 000 B · mic −31 dB"). */
import { levelDbfs } from '../pcm.js';

const group = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');

export function sendSummary(emit: (text: string, at: number) => void, periodMs = 1000): (pcm: Buffer, at: number) => void {
  let since = -1;
  let count = 0;
  let bytes = 0;
  let power = 0;
  return (pcm, at) => {
    if (since < 0) since = at;
    count += 1;
    bytes += pcm.length;
    power += 10 ** (levelDbfs(pcm) / 10);
    if (at - since < periodMs) return;
    const db = 10 * Math.log10(power / count);
    const level = db <= -99 ? 'mic silent' : `mic ${Math.round(db) < 0 ? '−' : ''}${Math.abs(Math.round(db))} dB`;
    emit(`${count} appends · ${group(bytes)} B · ${level}`, at);
    since = at;
    count = 0;
    bytes = 0;
    power = 0;
  };
}
