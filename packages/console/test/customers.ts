// Customers the console tests type in: the README's example (read from the README itself, so the
// test follows it), and the API's own answers for records, to compare the page against.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { postJson, repoRoot } from '../../gateway/test/helpers.js';

export function readmeCustomer(): Record<string, string | number> {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const body = /-d '(\{[\s\S]*?\})'/.exec(readme);
  if (!body) throw new Error("README.md: no curl -d '{...}' example");
  return JSON.parse(body[1]!);
}

/** The API's answer (or error) for records, the way any client would get it. */
export async function apiPredict(
  url: string,
  records: unknown[],
  version = '',
): Promise<{ status: number; json: any }> {
  const path = version === '' ? '/v1/models/churn/predict' : `/v1/models/churn/versions/${version}/predict`;
  return postJson(`${url}${path}`, { instances: records });
}

/** Types a record into the Score form: selects by their label, text boxes filled. */
export async function fillForm(page: Page, record: Record<string, string | number>): Promise<void> {
  for (const [name, value] of Object.entries(record)) {
    const control = page.getByLabel(name, { exact: true });
    if ((await control.evaluate((el) => el.tagName)) === 'SELECT') await control.selectOption(String(value));
    else await control.fill(String(value));
  }
}
