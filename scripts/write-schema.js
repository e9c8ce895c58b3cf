console.log("schema pending")
