/** Shell quoting for values embedded in rendered scripts (POSIX single quotes). */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/** `sudo -n bash -c '<script>'`: run a rendered script as root over SSH, stdin passed through. */
export function asRoot(script: string): string {
  return `sudo -n bash -c ${shellQuote(script)}`;
}
