import { type ModelDefinition, ModelDefinitionError } from './model-definition.js';

/**
 * Models in dependency order (a model after every model it refs). A cycle is reported with the
 * models in it; a ref to a model that does not exist is reported for the model that makes it.
 */
export function orderModels(defs: readonly ModelDefinition[]): ModelDefinition[] {
  const byName = new Map(defs.map((d) => [d.name, d]));
  for (const d of defs) {
    for (const i of d.inputs) {
      if (i.kind === 'ref' && !byName.has(i.model)) throw new ModelDefinitionError(d.file, `ref('${i.model}'): no such model`);
    }
  }
  const order: ModelDefinition[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (d: ModelDefinition, path: string[]): void => {
    if (state.get(d.name) === 'done') return;
    if (state.get(d.name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(d.name)), d.name];
      throw new ModelDefinitionError(d.file, `models form a cycle: ${cycle.join(' -> ')}`, cycle);
    }
    state.set(d.name, 'visiting');
    for (const i of d.inputs) if (i.kind === 'ref') visit(byName.get(i.model)!, [...path, d.name]);
    state.set(d.name, 'done');
    order.push(d);
  };
  for (const d of [...defs].sort((a, b) => a.name.localeCompare(b.name))) visit(d, []);
  return order;
}
