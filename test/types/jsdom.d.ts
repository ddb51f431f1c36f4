// The part of jsdom's API test/docs.test.ts uses (jsdom ships no typings; @types/jsdom is not a dependency).
declare module "jsdom" {
  export class JSDOM {
    constructor(html?: string);
    readonly window: { document: unknown } & Record<string, unknown>;
  }
}
