import FinchLang

/// The one room where the language and the ML primitives meet: every
/// native the language sees, registered with its docs.
public enum FinchLibrary {
    /// A registry with the core built-ins and every FinchLib binding.
    public static func makeRegistry() -> Registry {
        let registry = Registry()
        registry.registerCore()  // first, so help() and the reference list them first
        TensorBindings.register(in: registry)
        TextBindings.register(in: registry)
        ModelBindings.register(in: registry)
        DataBindings.register(in: registry)
        TrainBindings.register(in: registry)
        FileBindings.register(in: registry)
        PlotBindings.register(in: registry)
        EvalBindings.register(in: registry)
        AnalysisBindings.register(in: registry)
        ServeBindings.register(in: registry)
        DistBindings.register(in: registry)
        return registry
    }

    /// An interpreter with everything Finch offers and the prelude loaded.
    public static func makeInterpreter() throws -> Interpreter {
        try Interpreter(registry: makeRegistry())
    }
}
