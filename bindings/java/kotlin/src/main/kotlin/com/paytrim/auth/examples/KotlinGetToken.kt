@file:JvmName("KotlinGetToken")

// The Kotlin example: the Java wrapper used idiomatically (`use {}` closes the client).
// Reads PAYTRIM_CLIENT_ID, PAYTRIM_CLIENT_SECRET, PAYTRIM_TENANT_ID, PAYTRIM_AUTHORITY_HOST and
// PAYTRIM_CA_FILE (unset = the library default) and prints what it got, never the token itself.
package com.paytrim.auth.examples

import com.paytrim.auth.PaytrimAuthClient
import com.paytrim.auth.PaytrimAuthException
import java.time.Instant
import kotlin.system.exitProcess

private fun env(name: String): String? = System.getenv(name)?.takeIf { it.isNotBlank() }

fun main() {
    val clientId = env("PAYTRIM_CLIENT_ID") ?: run { System.err.println("set PAYTRIM_CLIENT_ID"); exitProcess(2) }
    val secret = env("PAYTRIM_CLIENT_SECRET") ?: run { System.err.println("set PAYTRIM_CLIENT_SECRET"); exitProcess(2) }
    try {
        PaytrimAuthClient.builder(clientId, secret).apply {
            env("PAYTRIM_TENANT_ID")?.let { tenant(it) }
            env("PAYTRIM_AUTHORITY_HOST")?.let { authorityHost(it) }
            env("PAYTRIM_CA_FILE")?.let { caFile(it) }
        }.build().use { client ->
            val token = client.getToken() // the configured scope (Microsoft Graph by default)
            val orders = client.getTokenForScopes("api://orders/.default") // another scope set, per call
            val left = token.expiresOn.epochSecond - Instant.now().epochSecond
            println("default scope: ${token.token.length}-character token, expires in $left s")
            println("api://orders/.default: ${orders.token.length}-character token, a different one: ${orders.token != token.token}")
            println("header: ${token.toAuthorizationHeader().substringBefore(' ')} <token>")
        }
    } catch (e: PaytrimAuthException) {
        System.err.println("error: ${e.code}: ${e.message}")
        exitProcess(1)
    }
}
