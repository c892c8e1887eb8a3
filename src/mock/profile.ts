/**
 * Which model tags and voices the simulator serves (hydra-protocol §2.3, §10.1). Kept apart from
 * src/models.ts on purpose: the simulator follows the protocol doc, not the client's view of it.
 */

/**
 * The server behaviour to imitate:
 * - `may-2026`: the launch (one tag, `hydra`; an unknown voice silently becomes the default, wren);
 * - `aug-2026`: after the V1.1 release, as the project reads it (wren…tate still work on `hydra`);
 * - `aug-2026-probe`: after the V1.1 release as the August probe saw it (the six original voices are
 *   rejected on every tag, `hydra` included).
 */
export const PROFILES = ['may-2026', 'aug-2026', 'aug-2026-probe'] as const;
export type Profile = (typeof PROFILES)[number];

export function isProfile(name: string): name is Profile {
  return (PROFILES as readonly string[]).includes(name);
}

const MAY_VOICES = ['wren', 'sloane', 'marlowe', 'reed', 'knox', 'tate'] as const;
const V1_0_VOICES = ['vaughn', 'brooks', 'cole', 'hayes', 'pierce', 'sterling', 'ellis', 'lane', 'quinn', 'arden', 'rowan', 'blair', 'emery', 'sawyer'] as const;
const V1_1_VOICES = ['zoe', 'maya', 'elena', 'ivy', 'grace', 'alex', 'aria', 'leo', 'sam', 'kai'] as const;
/** §2.3: the probe saw all 24 newer ids accepted, and Smallest's own demo uses them with `model=hydra`: every tag serves them. */
const NEWER_VOICES = [...V1_0_VOICES, ...V1_1_VOICES] as const;
const ALL_VOICES = [...MAY_VOICES, ...NEWER_VOICES] as const;

/** What a model tag means under a profile. */
export type ModelRules = {
  readonly model: string;
  readonly voices: readonly string[];
  readonly defaultVoice: string;
  /** Unknown voices: silently replaced (May docs) or rejected with an error (Aug probe). */
  readonly unknownVoice: 'fallback' | 'reject';
  readonly outputSampleRate: number;
  /** Set for a deprecated tag: the tag the `warning` frame names (§2.8). */
  readonly migrateTo?: string;
};

/**
 * The tag a connection without a `model` query parameter gets: the AsyncAPI default `hydra-v1.1`
 * (§1.1) once it exists; in May 2026 `hydra` was the only tag (and the May draft's default).
 */
export function defaultModel(profile: Profile): string {
  return profile === 'may-2026' ? 'hydra' : 'hydra-v1.1';
}

/** The rules for `model` under `profile`, or undefined when the tag is not served (→ HTTP 400). */
export function modelRules(profile: Profile, model: string): ModelRules | undefined {
  if (profile === 'may-2026') {
    return model === 'hydra'
      ? { model, voices: ALL_VOICES, defaultVoice: 'wren', unknownVoice: 'fallback', outputSampleRate: 48000 }
      : undefined;
  }
  switch (model) {
    case 'hydra-v1.1': // §2.4: 24 kHz observed on v1.1; §2.3: default `sterling` although not in its roster
      return { model, voices: NEWER_VOICES, defaultVoice: 'sterling', unknownVoice: 'reject', outputSampleRate: 24000 };
    case 'hydra-v1.0':
      return { model, voices: NEWER_VOICES, defaultVoice: 'sterling', unknownVoice: 'reject', outputSampleRate: 48000 };
    case 'hydra':
      // Deprecated but still served. `aug-2026` is the project's reading of the service (the team's
      // confirmed contract is that wren…tate still work on model=hydra, default wren);
      // `aug-2026-probe` is what the August probe saw: the six original names rejected, default sterling.
      return profile === 'aug-2026'
        ? { model, voices: ALL_VOICES, defaultVoice: 'wren', unknownVoice: 'reject', outputSampleRate: 48000, migrateTo: 'hydra-v1.0' }
        : { model, voices: NEWER_VOICES, defaultVoice: 'sterling', unknownVoice: 'reject', outputSampleRate: 48000, migrateTo: 'hydra-v1.0' };
    default:
      return undefined;
  }
}

/** The voice a session gets, and whether the requested one was rejected (§2.3, §10.3). */
export function resolveVoice(rules: ModelRules, requested: string | undefined): { voice: string; rejected: boolean } {
  if (requested === undefined || requested === rules.defaultVoice || rules.voices.includes(requested)) {
    return { voice: requested ?? rules.defaultVoice, rejected: false };
  }
  return { voice: rules.defaultVoice, rejected: rules.unknownVoice === 'reject' };
}
