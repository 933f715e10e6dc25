// The values `output` and `color` take, in the config and on the command line: plain lists, so the
// schema (schema.ts), the defaults (defaults.ts) and the flags read them without each other.

export const outputFormats = ['text', 'raw', 'json', 'template'] as const;
export const colorModes = ['auto', 'always', 'never'] as const;
