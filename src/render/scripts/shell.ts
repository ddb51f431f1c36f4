/**
 * Shell quoting for values embedded in rendered scripts and command lines (POSIX single quotes):
 * the one helper for the shell-word grammar. A quoted word is inert in sh, bash and zsh — `$(…)`,
 * backticks, `;`, globs, newlines and quotes arrive as the literal characters. A shell word cannot
 * hold NUL, so a NUL throws. (That a word does not start with `-`, i.e. is no option of the command
 * it is given to, is the caller's business: the config's scalars refuse such values.)
 */
export function shellQuote(value: string): string {
  if (value.includes("\0")) throw new Error(`shell: a NUL cannot be part of a shell word: ${JSON.stringify(value)}`);
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/** `sudo -n bash -c '<script>'`: run a rendered script as root over SSH, stdin passed through. */
export function asRoot(script: string): string {
  return `sudo -n bash -c ${shellQuote(script)}`;
}
