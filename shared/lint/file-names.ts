/** The names of the configuration files farm reads of a repository: a module of constants, light enough for any process to import. */
export const FARM_JSON = ".farm.json";
export const JSHINTRC = ".jshintrc";
