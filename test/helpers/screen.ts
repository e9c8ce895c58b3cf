/**
 * A small terminal screen: plays back what a program wrote (text, \r, \n, and the cursor and
 * erase sequences Node's readline and cli-progress use) and gives the lines a user would see.
 */
export function renderScreen(output: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  const line = (): string[] => (lines[row] ??= []);
  for (let i = 0; i < output.length; i++) {
    const ch = output[i]!;
    if (ch === '\x1b') {
      const next = output[i + 1];
      if (next === '7') {
        saved = { row, col };
        i++;
      } else if (next === '8') {
        ({ row, col } = saved);
        i++;
      } else if (next === '[') {
        const match = /^\[(\??)([0-9;]*)([A-Za-z])/.exec(output.slice(i + 1));
        if (!match) throw new Error(`unknown escape at ${i}: ${JSON.stringify(output.slice(i, i + 8))}`);
        i += match[0].length;
        const n = Number(match[2] || '0');
        const [, privateMode, , command] = match;
        if (privateMode) continue; // cursor visibility, line wrapping
        if (command === 'G') col = Math.max(0, n - 1);
        else if (command === 'A') row = Math.max(0, row - (n || 1));
        else if (command === 'B') row += n || 1;
        else if (command === 'C') col += n || 1;
        else if (command === 'D') col = Math.max(0, col - (n || 1));
        else if (command === 'K') {
          const current = line();
          if (n === 0) current.length = Math.min(current.length, col);
          else if (n === 1) for (let c = 0; c <= col && c < current.length; c++) current[c] = ' ';
          else current.length = 0;
        } else if (command === 'J') {
          line().length = Math.min(line().length, col);
          lines.length = row + 1;
        } else throw new Error(`unknown escape ${match[0]}`);
      }
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      // A terminal's output processing (onlcr) turns \n into \r\n.
      row++;
      col = 0;
    } else {
      const current = line();
      while (current.length < col) current.push(' ');
      current[col++] = ch;
    }
  }
  return Array.from(lines, (l) => (l ?? []).join('').trimEnd());
}
