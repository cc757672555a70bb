// A table as every page draws one: scrolling sideways inside its own box on a narrow screen (the
// page never does), named for screen readers and tests, column headers scoped.
import type { ComponentChildren } from 'preact';

export function Table({
  label,
  headers,
  caption,
  variant,
  children,
}: {
  label: string;
  /** Column headings; false leaves a column out. */
  headers?: readonly (string | false)[];
  caption?: ComponentChildren;
  /** A CSS class for the table: `compact` (as wide as its content), `counts`. */
  variant?: string;
  children: ComponentChildren;
}) {
  return (
    <div class="table-wrap">
      <table aria-label={label} class={variant}>
        {caption !== undefined && <caption>{caption}</caption>}
        {headers && (
          <thead>
            <tr>
              {headers
                .filter((h): h is string => h !== false)
                .map((h) => (
                  <th key={h} scope="col">
                    {h}
                  </th>
                ))}
            </tr>
          </thead>
        )}
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
