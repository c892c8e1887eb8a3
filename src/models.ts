/** Hydra model tags and their voice rosters (hydra-protocol §2.3, §0.2). Pure data. */

export type ModelInfo = {
  readonly voices: readonly string[];
  readonly defaultVoice: string;
  /** Set when the tag is deprecated: the tag to migrate to. */
  readonly migrateTo?: string;
  readonly note: string;
};

export const MODELS: Readonly<Record<string, ModelInfo>> = {
  hydra: {
    voices: ['wren', 'sloane', 'marlowe', 'reed', 'knox', 'tate'],
    defaultVoice: 'wren',
    migrateTo: 'hydra-v1.0',
    note: 'original release (May 2026); deprecated since 2026-08-20, still served',
  },
  'hydra-v1.0': {
    voices: ['vaughn', 'brooks', 'cole', 'hayes', 'pierce', 'sterling', 'ellis', 'lane', 'quinn', 'arden', 'rowan', 'blair', 'emery', 'sawyer'],
    defaultVoice: 'sterling',
    note: 'served, not deprecated',
  },
  'hydra-v1.1': {
    voices: ['zoe', 'maya', 'elena', 'ivy', 'grace', 'alex', 'aria', 'leo', 'sam', 'kai'],
    defaultVoice: 'sterling',
    note: 'current release',
  },
};

/** The current, recommended tag: what a run without --voice and --model uses (no voice sent; the server picks). */
export const DEFAULT_MODEL = 'hydra-v1.1';

/**
 * The model a run uses: an explicit `--model` always wins; otherwise the voice picks it (the model whose
 * roster has that voice: `reed` → hydra, `sterling` → hydra-v1.0, `aria` → hydra-v1.1); a voice no roster
 * has, or no voice at all, gets the current model.
 */
export function pickModel(voice: string | undefined, model: string | undefined): string {
  if (model !== undefined) return model;
  if (voice !== undefined) {
    const owner = Object.entries(MODELS).find(([, info]) => info.voices.includes(voice));
    if (owner) return owner[0];
  }
  return DEFAULT_MODEL;
}

/** The known model tags, for warnings: `hydra, hydra-v1.0, hydra-v1.1`. */
export function knownModels(): string {
  return Object.keys(MODELS).join(', ');
}

/** The roster for a model tag, or undefined for a tag hydra-chat does not know. */
export function modelInfo(model: string): ModelInfo | undefined {
  return Object.hasOwn(MODELS, model) ? MODELS[model] : undefined;
}

/** Default endpoint (hydra-protocol §1.1). */
export const DEFAULT_URL = 'wss://api.smallest.ai/waves/v1/s2s';

