export { DeciderSpecification, type GivenResult, type WhenResult } from './decider-specification';
