// A form's fields, generated from a version's feature schema: the id field, a select of the
// allowed values for each categorical feature, a text box for each numeric one with its range as
// a hint (text, not type=number, so what was typed reaches the gateway and its message comes
// back instead of the browser dropping it). Each field shows the gateway's message for it.
import type { ComponentChildren } from 'preact';
import type { Feature, ModelInfo } from './api.js';
import { rangeHint } from './form.js';
import type { FormValues } from './store.js';

export interface FieldsProps {
  readonly info: ModelInfo;
  readonly values: FormValues;
  /** The gateway's message per field name. */
  readonly issues: ReadonlyMap<string, string>;
  readonly onChange: (name: string, value: string) => void;
}

export function Fields({ info, values, issues, onChange }: FieldsProps) {
  const id = info.id_fields[0];
  return (
    <div class="fields">
      {id !== undefined && (
        <Field name={id} label={id} hint="returned with the answer" issue={issues.get(id)}>
          {(props) => (
            <input {...props} type="text" value={values[id] ?? ''} onInput={(e) => onChange(id, e.currentTarget.value)} />
          )}
        </Field>
      )}
      {info.features.map((f) => (
        <Field
          key={f.name}
          name={f.name}
          label={f.name}
          hint={f.kind === 'numeric' ? rangeHint(f) : ''}
          issue={issues.get(f.name)}
        >
          {(props) => <Control feature={f} props={props} value={values[f.name] ?? ''} onChange={onChange} />}
        </Field>
      ))}
    </div>
  );
}

interface ControlProps {
  id: string;
  name: string;
  'aria-invalid'?: 'true';
  'aria-describedby'?: string;
}

function Control({
  feature: f,
  props,
  value,
  onChange,
}: {
  feature: Feature;
  props: ControlProps;
  value: string;
  onChange: (name: string, value: string) => void;
}) {
  if (f.kind === 'categorical')
    return (
      <select {...props} value={value} onChange={(e) => onChange(f.name, e.currentTarget.value)}>
        <option value="">(not given)</option>
        {(f.categories ?? []).map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    );
  return (
    <input
      {...props}
      type="text"
      inputMode={f.integer ? 'numeric' : 'decimal'}
      autocomplete="off"
      value={value}
      onInput={(e) => onChange(f.name, e.currentTarget.value)}
    />
  );
}

function Field({
  name,
  label,
  hint,
  issue,
  children,
}: {
  name: string;
  label: string;
  hint: string;
  issue: string | undefined;
  children: (props: ControlProps) => ComponentChildren;
}) {
  const id = `field-${name}`;
  const described = [hint !== '' ? `${id}-hint` : '', issue !== undefined ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class={issue !== undefined ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      {children({
        id,
        name,
        ...(issue !== undefined ? { 'aria-invalid': 'true' as const } : {}),
        ...(described !== '' ? { 'aria-describedby': described } : {}),
      })}
      {hint !== '' && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
      {issue !== undefined && (
        <small id={`${id}-error`} class="error" role="alert">
          {issue}
        </small>
      )}
    </div>
  );
}
