// A Rust snippet inside main(), in a cargo project of its own that depends on the crate by path.
// The snippet leaves `bearer` ("Bearer <token>"); this prints its length, never the token.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    @snippet
    let token = bearer.strip_prefix("Bearer ").ok_or("the snippet's `bearer` has no Bearer prefix")?;
    println!("Authorization: Bearer <{} characters>", token.len());
    Ok(())
}
