/** Side-effect import for the entry point: see ./stack-traces. */
import { installCheapPromiseStacks } from "./stack-traces";

installCheapPromiseStacks();
