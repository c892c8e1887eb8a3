/** Live audio seam (microphone and speaker through PortAudio). */
import { HydraError } from '../errors.js';
import type { AudioSink, AudioSource } from './types.js';

export async function openMicrophone(_options: { frameMs: number; device?: string }): Promise<AudioSource> {
  throw new HydraError('audio-unavailable', 'live audio is not wired yet');
}
export async function openSpeaker(_options: { sampleRate: number; device?: string }): Promise<AudioSink> {
  throw new HydraError('audio-unavailable', 'live audio is not wired yet');
}
