// Stands in for node:fs/promises and node:path where the browser bundle reaches a module that
// imports them for a function the browser never calls (build.ts says where).

function unavailable(): never {
  throw new Error('file system access is not available in the browser build');
}

export const readFile = unavailable;
export const join = unavailable;
