// SourceDeps lives in ./source.js and the factory in ./create.js, so that no
// source imports the module that imports it. This re-export keeps the kafka and
// logio sources, changed on other branches, compiling as they are; point their
// imports at ./source.js and delete this file once those branches have merged.
export type {SourceDeps} from './source.js';
