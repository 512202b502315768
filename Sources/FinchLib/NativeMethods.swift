import FinchLang

extension NativeType {
    /// Adds a method whose body receives the object's Swift value (the method's first argument, `self`).
    /// Errors of the ML modules need no wrapping: the interpreter reports any error by its description.
    func method<T: AnyObject>(_ name: String, on _: T.Type, _ params: [Param], returns: String, _ doc: String, _ example: String,
                              _ body: @escaping (T, Arguments) throws -> Value) {
        method(NativeFunction(name, [Param("self", .object(self.name))] + params, returns: returns, doc: doc, example: example) { a in
            try body(a.object("self", as: T.self)!, a)
        })
    }
}
