/// The HTTP methods of `rest_get`, `rest_post` and `rest_put`.
public enum HTTPMethod: String, Sendable, CaseIterable {
    /// `rest_get`.
    case get = "GET"
    /// `rest_post` (body and content type sent).
    case post = "POST"
    /// `rest_put` (body and content type sent).
    case put = "PUT"
}
