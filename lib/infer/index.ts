// mm.infer: batched generation of modal-mixed chains (text and latent sketches).
export { generate, answerText, LATENT_SOURCES, type GenerateModel, type GenerateOptions, type GeneratedSequence, type LatentSource } from './generate.ts';
