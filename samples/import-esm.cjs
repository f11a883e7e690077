// tslab compiles each notebook cell to CommonJS, which turns every `import`, even `import()`,
// into require(). littlepipes is an ES module that require() cannot load (it awaits its hash
// function at the top level), so the notebook loads it through this file's own import().
module.exports = (specifier) => import(specifier);
