// Preloaded with `node --import` in a test: records every module logmon loads.
import {register} from 'node:module';

register('./import-hooks.mjs', import.meta.url);
