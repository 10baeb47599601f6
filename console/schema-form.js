/**
 * A form rendered from a JSON Schema (the `input` of an ability or workflow): strings, numbers,
 * booleans, enums, arrays of scalars, nested objects; defaults filled, required marked. Errors from
 * the API (`details[].path` such as `/text`) are shown next to the field they name.
 */
import { detailPointer } from './api.js'
import { h, nextId } from './dom.js'

const LONG_TEXT = 200

/**
 * @example
 * const form = schemaForm(ability.input, { values: task.inputs })
 * panel.append(form.element); form.onChange(() => estimate(form.read()))
 * form.showErrors(err.details)
 */
export function schemaForm(schema, { values = {} } = {}) {
  const errorSlots = new Map()
  const listeners = new Set()
  const files = { imageBase64: undefined }
  const root = objectFields(schema ?? {}, '', values ?? {}, { errorSlots, files, top: true })
  const element = h('div', { class: 'schema-form' }, root.elements)
  if (!root.elements.length) element.append(h('p', { class: 'hint' }, 'This takes no inputs.'))
  const changed = () => {
    for (const fn of listeners) fn()
  }
  element.addEventListener('input', changed)
  element.addEventListener('change', changed)

  return {
    element,
    /** The inputs as JSON; throws an Error naming the field when one cannot be read (bad JSON). */
    read: () => root.read() ?? {},
    /** The uploaded image as base64, when the schema has `imageBase64`. */
    imageBase64: () => files.imageBase64,
    onChange(fn) {
      listeners.add(fn)
    },
    clearErrors() {
      for (const slot of errorSlots.values()) setError(slot, '')
      element.querySelector('.form-error')?.remove()
    },
    /** Puts each detail next to its field; what matches no field goes on top. */
    showErrors(details) {
      this.clearErrors()
      const unplaced = []
      for (const detail of Array.isArray(details) ? details : []) {
        const slot = errorSlots.get(detailPointer(detail))
        if (slot) setError(slot, detail.message ?? 'is invalid')
        else unplaced.push(`${detailPointer(detail) || 'inputs'}: ${detail.message ?? 'is invalid'}`)
      }
      if (unplaced.length)
        element.prepend(h('p', { class: 'form-error', role: 'alert' }, unplaced.join('; ')))
      element.querySelector('[aria-invalid="true"]')?.focus()
    },
  }
}

function setError(slot, message) {
  slot.error.textContent = message
  slot.error.hidden = !message
  if (message) slot.control.setAttribute('aria-invalid', 'true')
  else slot.control.removeAttribute('aria-invalid')
}

function objectFields(schema, pointer, values, ctx) {
  const required = new Set(schema.required ?? [])
  const fields = Object.entries(schema.properties ?? {}).map(([name, prop]) =>
    field(name, prop ?? {}, `${pointer}/${name}`, required.has(name), values?.[name], ctx),
  )
  return {
    elements: fields.map((f) => f.element),
    read() {
      const out = {}
      fields.forEach((f) => {
        const value = f.read()
        if (value !== undefined) out[f.name] = value
      })
      return Object.keys(out).length ? out : undefined
    },
  }
}

function field(name, schema, pointer, required, given, ctx) {
  const id = nextId('in')
  const errorId = `${id}-error`
  const value = given !== undefined ? given : schema.default
  const label = schema.title ?? name
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type

  if (type === 'object' && schema.properties) {
    const inner = objectFields(schema, pointer, value ?? {}, { ...ctx, top: false })
    const errorEl = h('p', { class: 'field-error', id: errorId, hidden: true })
    const element = h(
      'fieldset',
      { class: 'field-group' },
      h('legend', {}, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : ''),
      schema.description ? h('p', { class: 'hint' }, schema.description) : '',
      inner.elements,
      errorEl,
    )
    ctx.errorSlots.set(pointer, { control: element, error: errorEl })
    return { name, element, read: inner.read }
  }

  let control
  let read
  const common = { id, name, 'aria-describedby': errorId, required: required || undefined }
  if (ctx.top && name === 'imageBase64') {
    control = h('input', { ...common, type: 'file', accept: 'image/*' })
    control.addEventListener('change', async () => {
      const file = control.files?.[0]
      ctx.files.imageBase64 = file ? await fileToBase64(file) : undefined
      control.dispatchEvent(new Event('input', { bubbles: true }))
    })
    read = () => ctx.files.imageBase64
  } else if (Array.isArray(schema.enum)) {
    control = h(
      'select',
      common,
      !required || value === undefined ? h('option', { value: '' }, '—') : '',
      schema.enum.map((v, i) =>
        h('option', { value: String(i), selected: value !== undefined && v === value }, String(v)),
      ),
    )
    read = () => (control.value === '' ? undefined : schema.enum[Number(control.value)])
  } else if (type === 'boolean') {
    control = h('input', { ...common, type: 'checkbox', checked: value === true })
    // an untouched checkbox without default says nothing, so a schema default still applies server-side
    let touched = value !== undefined
    control.addEventListener('change', () => (touched = true))
    read = () => (touched ? control.checked : undefined)
  } else if (type === 'number' || type === 'integer') {
    control = h('input', {
      ...common,
      type: 'number',
      inputmode: type === 'integer' ? 'numeric' : 'decimal',
      min: schema.minimum ?? schema.exclusiveMinimum,
      max: schema.maximum ?? schema.exclusiveMaximum,
      step: type === 'integer' ? 1 : 'any',
      value: value ?? '',
    })
    read = () => (control.value.trim() === '' ? undefined : Number(control.value))
  } else if (type === 'array' && isScalar(schema.items)) {
    const itemType = schema.items?.type ?? 'string'
    control = h('input', {
      ...common,
      type: 'text',
      value: Array.isArray(value) ? value.join(', ') : '',
      placeholder: 'comma separated',
    })
    read = () => {
      const parts = control.value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
      if (!parts.length) return undefined
      return itemType === 'number' || itemType === 'integer' ? parts.map(Number) : parts
    }
  } else if (type === 'string') {
    const long = (schema.maxLength ?? 0) > LONG_TEXT || schema.format === 'textarea'
    control = long
      ? h('textarea', { ...common, rows: 4, maxLength: schema.maxLength, value: value ?? '' })
      : h('input', {
          ...common,
          type: schema.format === 'uri' ? 'url' : 'text',
          maxLength: schema.maxLength,
          value: value ?? '',
        })
    if (schema.minLength) control.minLength = schema.minLength
    read = () => (control.value === '' ? undefined : control.value)
  } else {
    // anything else (free objects, arrays of objects, no type): edited as JSON
    control = h('textarea', {
      ...common,
      rows: 3,
      class: 'mono',
      value: value === undefined ? '' : JSON.stringify(value, null, 2),
      placeholder: 'JSON',
    })
    read = () => {
      const text = control.value.trim()
      if (!text) return undefined
      try {
        return JSON.parse(text)
      } catch {
        throw new Error(`${label}: not valid JSON`)
      }
    }
  }

  // the browser's own checks would block the submit before the API can explain; the API's errors are shown instead
  control.removeAttribute('required')
  if (required) control.setAttribute('aria-required', 'true')
  const errorEl = h('p', { class: 'field-error', id: errorId, hidden: true, 'aria-live': 'polite' })
  ctx.errorSlots.set(pointer, { control, error: errorEl })
  const hint = [
    schema.description,
    schema.minimum !== undefined || schema.maximum !== undefined
      ? `${schema.minimum ?? '…'} to ${schema.maximum ?? '…'}`
      : '',
  ]
    .filter(Boolean)
    .join(' · ')
  const element = h(
    'div',
    { class: `field${type === 'boolean' ? ' field-check' : ''}` },
    h(
      'label',
      { for: id },
      label,
      required ? h('span', { class: 'req', title: 'required' }, ' *') : '',
      required ? h('span', { class: 'sr-only' }, ' (required)') : '',
    ),
    control,
    hint ? h('p', { class: 'hint' }, hint) : '',
    errorEl,
  )
  return { name, element, read }
}

function isScalar(items) {
  return !items || ['string', 'number', 'integer'].includes(items.type)
}

function fileToBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''))
    reader.onerror = () => reject(reader.error)
    reader.readAsDataURL(file)
  })
}
