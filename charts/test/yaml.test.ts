// The YAML reader every deploy test relies on: it must read as Kubernetes does and refuse what
// Kubernetes would silently mangle.
import { describe, expect, it } from 'vitest';
import { yamlDocs } from './helpers.js';

describe('yamlDocs', () => {
  it('reads every document of a stream, dropping empty ones', () => {
    expect(yamlDocs('a: 1\n---\n---\nb: [p, q]\n')).toEqual([{ a: 1 }, { b: ['p', 'q'] }]);
  });

  it('fails on a duplicate key instead of keeping one of the two', () => {
    expect(() => yamlDocs('metadata:\n  labels:\n    app: a\n    app: b\n')).toThrow(/YAML parse failed/);
  });

  it('reads YAML 1.1 scalars as Kubernetes does', () => {
    // `yes`, `off`, `y` and `n` are booleans, `010` is octal, a quoted number stays a string.
    expect(yamlDocs('enabled: yes\ntls: off\nport: "8080"\nmode: 010\nlist: [y, n]\n')).toEqual([
      { enabled: true, tls: false, port: '8080', mode: 8, list: [true, false] },
    ]);
  });
});
